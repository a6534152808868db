%% @doc The engine's NIF functions. Internal: use the `khepri' API.
%%
%% Calls that take time (`open', `stop', `submit') return at once and answer
%% later with `{Ref, Result}' sent to the caller; the others are short reads.
-module(khepri_nif).

-export([open/4, stop/2, submit/3, submit_to/4,
         get/2, exists/2, get_one/3, get_one_dirty/3, query/5, export/2, check_data_match/2,
         dump/1, applied_index/1, last_log_index/1,
         tx_begin/1, tx_write/2, tx_write_dirty/2, tx_commit/3, fence/3, wait_applied/4,
         rpc_in/4, rpc_reply/3, members/1, leader/1, wait_for_leader/4, change_member/5,
         take_effects/2, effects_done/2, effects_sent/1, pending_triggers/1, projections/1,
         snapshot/3, compaction_info/1]).

-nifs([open/4, stop/2, submit/3, submit_to/4,
       get/2, exists/2, get_one/3, get_one_dirty/3, query/5, export/2, check_data_match/2,
       dump/1, applied_index/1, last_log_index/1,
       tx_begin/1, tx_write/2, tx_write_dirty/2, tx_commit/3, fence/3, wait_applied/4,
         rpc_in/4, rpc_reply/3, members/1, leader/1, wait_for_leader/4, change_member/5,
       take_effects/2, effects_done/2, effects_sent/1, pending_triggers/1, projections/1,
       snapshot/3, compaction_info/1]).

-on_load(init/0).

-define(NOT_LOADED, erlang:nif_error({nif_not_loaded, ?MODULE, ?LINE})).

init() ->
    Priv = case code:priv_dir(khepri) of
               {error, bad_name} ->
                   %% Not loaded as an application (plain -pa): priv/ sits
                   %% beside ebin/.
                   Ebin = filename:dirname(code:which(?MODULE)),
                   filename:join(filename:dirname(Ebin), "priv");
               Dir ->
                   Dir
           end,
    erlang:load_nif(filename:join(Priv, "libkhepri_nif"), 0).

%% @doc Opens the member in `Dir'; answers `{Ref, {ok, Engine, Warnings}}' or
%% `{Ref, {error, Reason}}'.
open(_Dir, _NodeName, _Opts, _Ref) -> ?NOT_LOADED.

%% @doc Stops the member; answers `{Ref, ok}'.
stop(_Engine, _Ref) -> ?NOT_LOADED.

%% @doc Submits a command; answers `{Ref, Reply}' once applied here.
submit(_Engine, _Ref, _Command) -> ?NOT_LOADED.

%% @doc Like `submit/3', answering `{Tag, Reply}' to `Pid'.
submit_to(_Engine, _Pid, _Tag, _Command) -> ?NOT_LOADED.

%% @doc Reads the payload of one node (`Engine' may also be a transaction
%% handle, as for every read below: it reads the transaction's overlay and
%% records the read).
get(_Engine, _Path) -> ?NOT_LOADED.

%% @doc Tells whether a node exists.
exists(_Engine, _Path) -> ?NOT_LOADED.

%% @doc The node a single-node pattern targets: `{ok, {Path, Props}}',
%% `{error, Reason}', or `too_big' (use `get_one_dirty/3').
get_one(_Engine, _Pattern, _PropsToReturn) -> ?NOT_LOADED.

%% @doc `get_one/3' on a dirty scheduler, for large payloads.
get_one_dirty(_Engine, _Pattern, _PropsToReturn) -> ?NOT_LOADED.

%% @doc Every node a pattern matches, shaped as `props_map', `data_map',
%% `props_list' or `count'.
query(_Engine, _Pattern, _PropsToReturn, _IncludeRoot, _Shape) -> ?NOT_LOADED.

%% @doc The backup items of the nodes a pattern matches, parents first:
%% `[{Path, RawPayload, PutOptions}]' (SPEC 4.10).
export(_Engine, _Pattern) -> ?NOT_LOADED.

%% @doc `ok' if the engine supports this data condition, else
%% `{error, Reason}'.
check_data_match(_Pattern, _Guards) -> ?NOT_LOADED.

%% @doc Lists every node and its payload, in tree order.
dump(_Engine) -> ?NOT_LOADED.

%% @doc Index of the last log entry applied by this member.
applied_index(_Engine) -> ?NOT_LOADED.

%% @doc Index of the last entry in this member's log.
last_log_index(_Engine) -> ?NOT_LOADED.

%% @doc Starts a transaction on the member's current tree version.
tx_begin(_Engine) -> ?NOT_LOADED.

%% @doc Applies a write command to a transaction's overlay: the reply
%% `submit/3' would give, or `dirty' for a write that may take long (use
%% `tx_write_dirty/2').
tx_write(_Tx, _Command) -> ?NOT_LOADED.

%% @doc `tx_write/2' on a dirty scheduler.
tx_write_dirty(_Tx, _Command) -> ?NOT_LOADED.

%% @doc `read_only' when the transaction wrote nothing; else submits it and
%% answers `{Ref, {ok, []}}' or `{Ref, {error, tx_conflict | _}}'. `Dedup' is
%% `none' or a marker from `khepri_command:dedup/1'.
tx_commit(_Tx, _Ref, _Dedup) -> ?NOT_LOADED.

%% @doc Answers `{Ref, ok}' once the member applied every write committed
%% before the call (read-index), or `{Ref, {error, timeout}}'.
fence(_Engine, _Ref, _Timeout) -> ?NOT_LOADED.

%% @doc Answers `{Ref, ok}' once the member applied entry `Index', or
%% `{Ref, {error, timeout}}'.
wait_applied(_Engine, _Ref, _Index, _Timeout) -> ?NOT_LOADED.

%% Clustering (see khepri_store and khepri_cluster).

%% @doc Answers a call from another member; later `{Tag, {ok, Body}}' or
%% `{Tag, {error, Text}}' to the caller.
rpc_in(_Engine, _Kind, _Body, _Tag) -> ?NOT_LOADED.
%% @doc Delivers the answer to call `Id' this member made.
rpc_reply(_Engine, _Id, _Answer) -> ?NOT_LOADED.
%% @doc The node names (binaries) of every member in this member's view.
members(_Engine) -> ?NOT_LOADED.
%% @doc The node name (binary) of the leader this member knows, or `undefined'.
leader(_Engine) -> ?NOT_LOADED.
%% @doc Later `{Tag, ok}' once this member knows a leader, or
%% `{Tag, {error, timeout}}'.
wait_for_leader(_Engine, _Tag, _Except, _TimeoutMs) -> ?NOT_LOADED.
%% @doc Adds or removes (`add | remove') the member on node `NodeName'; on
%% the leader. Later `{Tag, ok | {error, _}}'.
change_member(_Engine, _Tag, _Change, _NodeName, _TimeoutMs) -> ?NOT_LOADED.

%% Projections and triggers (see khepri_store).

%% @doc `{Items, More}': the next items (at most a few hundred) of the
%% effects numbered `Seq'; `More' is `true' when some are left.
take_effects(_Engine, _Seq) -> ?NOT_LOADED.
%% @doc The store process carried out the effects numbered up to `Seq':
%% the replies held for them go, a few hundred per call; `more' when some
%% are left for another call, else `ok'.
effects_done(_Engine, _Seq) -> ?NOT_LOADED.
%% @doc The number of the last effects sent to the store process.
effects_sent(_Engine) -> ?NOT_LOADED.
%% @doc The trigger firings still owed, oldest first:
%% `[{fire, Seq, TriggerId, Path, Change, SprocPath}]'.
pending_triggers(_Engine) -> ?NOT_LOADED.
%% @doc The registered projections: `#{Name => Pattern}'.
projections(_Engine) -> ?NOT_LOADED.

%% Snapshots and compaction (see khepri_compaction).

%% @doc Builds a snapshot of the tree as of the call; answers
%% `{Ref, {ok, #{index, bytes, build_us}}}' once it is durable, or
%% `{Ref, {error, Reason}}'.
snapshot(_Engine, _Ref, _TimeoutMs) -> ?NOT_LOADED.
%% @doc `#{snapshot_index, snapshot_bytes, log_bytes, log_disk_bytes,
%% entries_since, builds}'.
compaction_info(_Engine) -> ?NOT_LOADED.
