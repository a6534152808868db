%% @doc The Khepri API: a tree-like, Raft-replicated store.
%%
%% Functions taking a store id choose their clause by `is_atom(FirstArg)'
%% (paths are lists or binaries, never atoms); forms without a store id use
%% the default store (SPEC 1.1). Reads are served by the local member's
%% current tree version; writes go through the Raft log and return once the
%% local member applied them.
-module(khepri).

-include("khepri.hrl").

%% get/1 and put/2 are also process-dictionary BIFs.
-compile({no_auto_import, [get/1, put/2]}).

-export([start/0, start/1, start/2, start/3,
         stop/0, stop/1, reset/0, reset/1, reset/2,
         get_store_ids/0,
         info/0, info/1, info/2,
         export/2, export/3, export/4, import/2, import/3]).
-export([transaction/1, transaction/2, transaction/3, transaction/4, transaction/5,
         fence/0, fence/1, fence/2, handle_async_ret/1, handle_async_ret/2]).
-export([register_trigger/3, register_trigger/4, register_trigger/5,
         register_projection/2, register_projection/3, register_projection/4,
         unregister_projections/1, unregister_projections/2, unregister_projections/3,
         has_projection/1, has_projection/2, has_projection/3]).
-export([get/1, get/2, get/3, get_or/2, get_or/3, get_or/4,
         get_many/1, get_many/2, get_many/3,
         get_many_or/2, get_many_or/3, get_many_or/4,
         exists/1, exists/2, exists/3, has_data/1, has_data/2, has_data/3,
         is_sproc/1, is_sproc/2, is_sproc/3, count/1, count/2, count/3,
         fold/3, fold/4, fold/5, foreach/2, foreach/3, foreach/4,
         map/2, map/3, map/4, filter/2, filter/3, filter/4,
         is_empty/0, is_empty/1, is_empty/2,
         run_sproc/2, run_sproc/3, run_sproc/4]).
-export([put/2, put/3, put/4, put_many/2, put_many/3, put_many/4,
         create/2, create/3, create/4, update/2, update/3, update/4,
         compare_and_swap/3, compare_and_swap/4, compare_and_swap/5,
         delete/1, delete/2, delete/3, delete_many/1, delete_many/2, delete_many/3,
         clear_payload/1, clear_payload/2, clear_payload/3,
         clear_many_payloads/1, clear_many_payloads/2, clear_many_payloads/3]).
-export(['get!'/1, 'get!'/2, 'get!'/3, 'get_or!'/2, 'get_or!'/3, 'get_or!'/4,
         'get_many!'/1, 'get_many!'/2, 'get_many!'/3,
         'get_many_or!'/2, 'get_many_or!'/3, 'get_many_or!'/4,
         'exists!'/1, 'exists!'/2, 'exists!'/3,
         'has_data!'/1, 'has_data!'/2, 'has_data!'/3,
         'is_sproc!'/1, 'is_sproc!'/2, 'is_sproc!'/3,
         'count!'/1, 'count!'/2, 'count!'/3,
         'put!'/2, 'put!'/3, 'put!'/4, 'put_many!'/2, 'put_many!'/3, 'put_many!'/4,
         'create!'/2, 'create!'/3, 'create!'/4, 'update!'/2, 'update!'/3, 'update!'/4,
         'compare_and_swap!'/3, 'compare_and_swap!'/4, 'compare_and_swap!'/5,
         'delete!'/1, 'delete!'/2, 'delete!'/3,
         'delete_many!'/1, 'delete_many!'/2, 'delete_many!'/3,
         'clear_payload!'/1, 'clear_payload!'/2, 'clear_payload!'/3,
         'clear_many_payloads!'/1, 'clear_many_payloads!'/2, 'clear_many_payloads!'/3]).

-define(DEFAULT, (khepri_env:default_store_id())).
-define(IS_STORE(S), is_atom(S)).

-type store_id() :: atom().
%% Node properties (SPEC 1.4): `data', `sproc', `has_data', `is_sproc',
%% `payload_version', `child_list_version', `child_list_length',
%% `child_names', `delete_reason', `raw_payload', as asked.
-type node_props() :: #{atom() => term()}.
%% `#{Path => node_props()}'.
-type node_props_map() :: #{khepri_path:native_path() => node_props()}.
-export_type([store_id/0, node_props/0, node_props_map/0]).

%% -------------------------------------------------------------------
%% Service.
%% -------------------------------------------------------------------

%% @doc Starts the default store in the default data directory.
start() ->
    start(khepri_env:default_data_dir()).

%% @doc Starts the default store in `DataDirOrSystem'.
start(DataDirOrSystem) ->
    start(DataDirOrSystem, khepri_env:default_store_id()).

%% @doc Starts store `StoreIdOrConfig' in `DataDirOrSystem'.
start(DataDirOrSystem, StoreIdOrConfig) ->
    start(DataDirOrSystem, StoreIdOrConfig, khepri_env:default_timeout()).

%% @doc Starts a store and returns `{ok, StoreId}'; idempotent. The store's
%% files live in `<DataDir>/<StoreId>'. `StoreIdOrConfig' is a store id or a
%% map with `cluster_name' (the store id) and `machine_config': when to
%% snapshot, `snapshot_interval' (entries, default 4096),
%% `log_to_snapshot_ratio' (default 2), `snapshot_time_interval' (ms,
%% default 10000, or `infinity') and `unreleased_command_footprint_threshold'
%% (bytes, default 20 MiB), see README "Snapshots and compaction"; other
%% Ra-specific keys are ignored (SPEC 5c).
%% Damaged files make it return `{error, {cannot_open_store, Reason}}',
%% `Reason' a binary naming the file and offset (README, "Damaged data").
-spec start(file:filename_all() | atom(), store_id() | map(), timeout()) ->
          {ok, store_id()} | {error, term()}.
start(DataDirOrSystem, StoreIdOrConfig, Timeout)
  when (is_list(DataDirOrSystem) orelse is_binary(DataDirOrSystem) orelse
        is_atom(DataDirOrSystem)) andalso
       (is_atom(StoreIdOrConfig) orelse is_map(StoreIdOrConfig)) andalso
       (Timeout =:= infinity orelse
        (is_integer(Timeout) andalso Timeout >= 0 andalso Timeout =< 16#FFFFFFFF)) ->
    {StoreId, Config} = store_config(StoreIdOrConfig),
    case resolve_data_dir(DataDirOrSystem) of
        {ok, DataDir} ->
            Dir = filename:join(DataDir, atom_to_list(StoreId)),
            case ensure_dir(Dir) of
                ok ->
                    Deadline = khepri_command:deadline(Timeout),
                    khepri_store_lock:with(
                      StoreId, Timeout,
                      fun() ->
                              Left = khepri_command:remaining(Deadline),
                              start_store(StoreId, Dir, Config#{timeout => Left})
                      end);
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

store_config(StoreId) when is_atom(StoreId) ->
    {StoreId, #{}};
store_config(Config) when is_map(Config) ->
    StoreId = case maps:get(cluster_name, Config, khepri_env:default_store_id()) of
                  Id when is_atom(Id) -> Id;
                  Bad -> erlang:error(?khepri_exception(invalid_option,
                                                        #{option => cluster_name,
                                                          value => Bad}))
              end,
    Machine = case maps:get(machine_config, Config, #{}) of
                  M when is_map(M) -> M;
                  BadMachine -> erlang:error(?khepri_exception(invalid_option,
                                                               #{option => machine_config,
                                                                 value => BadMachine}))
              end,
    Engine = maps:map(fun machine_option/2,
                      maps:with([snapshot_interval, snapshot_time_interval,
                                 unreleased_command_footprint_threshold,
                                 log_to_snapshot_ratio], Machine)),
    Unknown = maps:keys(maps:without([cluster_name, friendly_name, machine_config],
                                     Config)),
    Unknown =:= [] orelse
        logger:warning("khepri store ~s: ignoring Ra-specific options ~p",
                       [StoreId, Unknown]),
    {StoreId, Engine}.

%% The snapshot rules (README, "Snapshots and compaction"): checked here,
%% as the engine takes them, so that a bad value is refused by `start'.
machine_option(snapshot_interval, V)
  when is_integer(V), V >= 1, V < 1 bsl 64 -> V;
machine_option(snapshot_time_interval, infinity) -> infinity;
machine_option(snapshot_time_interval, V)
  when is_integer(V), V >= 0, V < 1 bsl 64 -> V;
machine_option(unreleased_command_footprint_threshold, V)
  when is_integer(V), V >= 0, V < 1 bsl 64 -> V;
machine_option(log_to_snapshot_ratio, V)
  when is_number(V), V >= 0, V =< 1.0e6 -> float(V);
machine_option(K, V) ->
    erlang:error(?khepri_exception(invalid_option, #{option => K, value => V})).

resolve_data_dir(Dir) when is_list(Dir); is_binary(Dir) ->
    %% Characters the file system API cannot take are refused here, not
    %% met later as a crash in filename:join/2 or in the store process.
    try unicode:characters_to_binary(Dir) of
        %% Go on with the binary: chardata can be nested lists, which
        %% filename:join/2 does not take.
        Bin when is_binary(Bin) -> {ok, Bin};
        _ -> {error, {invalid_data_dir, Dir}}
    catch
        error:badarg -> {error, {invalid_data_dir, Dir}}
    end;
resolve_data_dir(System) when is_atom(System) ->
    Systems = application:get_env(khepri, ra_systems, #{}),
    case Systems of
        #{System := Dir} -> {ok, Dir};
        _ -> {error, ?khepri_error(unknown_ra_system, #{ra_system => System})}
    end.

ensure_dir(Dir) ->
    case filelib:ensure_path(Dir) of
        ok -> ok;
        {error, Reason} -> {error, {cannot_create_data_dir, Dir, Reason}}
    end.

start_store(StoreId, Dir, Config) ->
    {ok, _} = application:ensure_all_started(khepri),
    case khepri_sup:start_store(StoreId, Dir, Config) of
        {ok, _Pid} -> {ok, StoreId};
        {error, {already_started, _Pid}} -> {ok, StoreId};
        {error, already_present} ->
            ok = khepri_sup:stop_store(StoreId),
            start_store(StoreId, Dir, Config);
        {error, {Reason, _ChildSpec}} -> {error, Reason};
        {error, _} = Error -> Error
    end.

%% @doc Stops the default store.
stop() ->
    stop(khepri_env:default_store_id()).

%% @doc Stops the local member of `StoreId' (its data are kept); `ok' also
%% for a store that is not running.
-spec stop(store_id()) -> ok.
stop(StoreId) when is_atom(StoreId) ->
    Stop = fun() ->
                   case whereis(khepri_sup) of
                       undefined -> ok;
                       _ -> khepri_sup:stop_store(StoreId)
                   end
           end,
    %% Serialised with start, join and reset (SPEC 4.9); a lock held past
    %% the default timeout does not keep the store from stopping.
    case khepri_store_lock:with(StoreId, khepri_env:default_timeout(), Stop) of
        {error, timeout} ->
            logger:warning("khepri store ~s: stopping without the store lock", [StoreId]),
            Stop();
        Stopped ->
            Stopped
    end.

%% @doc Same as `khepri_cluster:reset/0': leaves the cluster and deletes the
%% default store's local data.
reset() -> khepri_cluster:reset().
%% @doc Same as `khepri_cluster:reset/1' (`StoreId' or `Timeout').
reset(StoreIdOrTimeout) -> khepri_cluster:reset(StoreIdOrTimeout).
%% @doc Same as `khepri_cluster:reset/2'.
reset(StoreId, Timeout) -> khepri_cluster:reset(StoreId, Timeout).

%% @doc The ids of the stores running on this node.
-spec get_store_ids() -> [store_id()].
get_store_ids() ->
    case whereis(khepri_sup) of
        undefined -> [];
        _ -> [Id || {Id, Pid, _, _} <- supervisor:which_children(khepri_sup),
                    is_pid(Pid)]
    end.

%% -------------------------------------------------------------------
%% Queries (SPEC 2.2). Forms: F(Path[, ...]), F(S, Path[, ...]),
%% F(Path, ..., Options), F(S, Path, ..., Options).
%% -------------------------------------------------------------------

%% @doc Reads one node of the default store.
get(Path) -> get(?DEFAULT, Path, #{}).
%% @doc `get(StoreId, Path)' or `get(Path, Options)'.
get(S, Path) when ?IS_STORE(S) -> get(S, Path, #{});
get(Path, Opts) when is_map(Opts) -> get(?DEFAULT, Path, Opts).
%% @doc `{ok, Data}', `{ok, undefined}' when the node has no payload, the fun
%% of a stored procedure, or `{error, {khepri, node_not_found, Props}}'.
get(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:get(S, Path, Opts).

%% @doc Reads one node of the default store, `Default' if missing or empty.
get_or(Path, Default) -> get_or(?DEFAULT, Path, Default, #{}).
%% @doc `get_or(StoreId, Path, Default)' or `get_or(Path, Default, Options)'.
get_or(S, Path, Default) when ?IS_STORE(S) -> get_or(S, Path, Default, #{});
get_or(Path, Default, Opts) when is_map(Opts) -> get_or(?DEFAULT, Path, Default, Opts).
%% @doc `{ok, Data}' or `{ok, Default}' when the node is missing or has no payload.
get_or(S, Path, Default, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:get_or(S, Path, Default, Opts).

%% @doc Reads every match of a pattern in the default store.
get_many(Pattern) -> get_many(?DEFAULT, Pattern, #{}).
%% @doc `get_many(StoreId, Pattern)' or `get_many(Pattern, Options)'.
get_many(S, Pattern) when ?IS_STORE(S) -> get_many(S, Pattern, #{});
get_many(Pattern, Opts) when is_map(Opts) -> get_many(?DEFAULT, Pattern, Opts).
%% @doc `{ok, #{Path => Data | Fun | undefined}}'; `{ok, #{}}' if none.
get_many(S, Pattern, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:get_many(S, Pattern, Opts).

%% @doc Like `get_many/1', `Default' for nodes without payload.
get_many_or(Pattern, Default) -> get_many_or(?DEFAULT, Pattern, Default, #{}).
%% @doc `get_many_or(StoreId, Pattern, Default)' or `(Pattern, Default, Options)'.
get_many_or(S, Pattern, Default) when ?IS_STORE(S) -> get_many_or(S, Pattern, Default, #{});
get_many_or(Pattern, Default, Opts) when is_map(Opts) ->
    get_many_or(?DEFAULT, Pattern, Default, Opts).
%% @doc `{ok, #{Path => Data | Default}}'.
get_many_or(S, Pattern, Default, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:get_many_or(S, Pattern, Default, Opts).

%% @doc Whether a node exists in the default store.
exists(Path) -> exists(?DEFAULT, Path, #{}).
%% @doc `exists(StoreId, Path)' or `exists(Path, Options)'.
exists(S, Path) when ?IS_STORE(S) -> exists(S, Path, #{});
exists(Path, Opts) when is_map(Opts) -> exists(?DEFAULT, Path, Opts).
%% @doc `true' or `false'; `{error, _}' for errors other than "not found".
exists(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:exists(S, Path, Opts).

%% @doc Whether a node of the default store holds data.
has_data(Path) -> has_data(?DEFAULT, Path, #{}).
%% @doc `has_data(StoreId, Path)' or `has_data(Path, Options)'.
has_data(S, Path) when ?IS_STORE(S) -> has_data(S, Path, #{});
has_data(Path, Opts) when is_map(Opts) -> has_data(?DEFAULT, Path, Opts).
%% @doc `true' if the node holds data; `false' if not or missing.
has_data(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:has_data(S, Path, Opts).

%% @doc Whether a node of the default store holds a stored procedure.
is_sproc(Path) -> is_sproc(?DEFAULT, Path, #{}).
%% @doc `is_sproc(StoreId, Path)' or `is_sproc(Path, Options)'.
is_sproc(S, Path) when ?IS_STORE(S) -> is_sproc(S, Path, #{});
is_sproc(Path, Opts) when is_map(Opts) -> is_sproc(?DEFAULT, Path, Opts).
%% @doc `true' if the node holds a stored procedure; `false' if not or missing.
is_sproc(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:is_sproc(S, Path, Opts).

%% @doc Runs the stored procedure at `Path' of the default store with `Args'.
run_sproc(Path, Args) -> run_sproc(?DEFAULT, Path, Args, #{}).
%% @doc `run_sproc(StoreId, Path, Args)' or `run_sproc(Path, Args, Options)'.
run_sproc(S, Path, Args) when ?IS_STORE(S) -> run_sproc(S, Path, Args, #{});
run_sproc(Path, Args, Opts) when is_map(Opts) -> run_sproc(?DEFAULT, Path, Args, Opts).
%% @doc The return value of the sproc at `Path' applied to `Args', run in
%% the caller (SPEC 2.2). Throws `failed_to_get_sproc' when the node cannot
%% be read, `denied_execution_of_non_sproc_node' when it holds no sproc.
%% `length(Args) >= 0': a proper list only, else a clause error here rather than
%% a badarg from inside `apply'.
run_sproc(S, Path, Args, Opts) when ?IS_STORE(S), length(Args) >= 0, is_map(Opts) ->
    khepri_sproc:run(S, Path, Args, Opts).

%% -------------------------------------------------------------------
%% Triggers and projections (SPEC 4.6, 4.7).
%% -------------------------------------------------------------------

%% @doc Registers a trigger in the default store.
register_trigger(TriggerId, EventFilter, SprocPath) ->
    register_trigger(?DEFAULT, TriggerId, EventFilter, SprocPath, #{}).
%% @doc `register_trigger(StoreId, TriggerId, EventFilter, SprocPath)' or
%% `register_trigger(TriggerId, EventFilter, SprocPath, Options)'.
register_trigger(S, TriggerId, EventFilter, SprocPath) when is_atom(TriggerId) ->
    register_trigger(S, TriggerId, EventFilter, SprocPath, #{});
register_trigger(TriggerId, EventFilter, SprocPath, Opts) ->
    register_trigger(?DEFAULT, TriggerId, EventFilter, SprocPath, Opts).
%% @doc Registers (or replaces) trigger `TriggerId': the stored procedure
%% at `SprocPath' runs on the leader's node for each change of a node
%% matching `EventFilter', with a `#khepri_trigger{}' argument;
%% at-least-once. `ok' or `{error, timeout | noproc}'.
register_trigger(S, TriggerId, EventFilter, SprocPath, Opts) when ?IS_STORE(S) ->
    khepri_registration:register_trigger(S, TriggerId, EventFilter, SprocPath, Opts).

%% @doc Registers a projection in the default store.
register_projection(PathPattern, Projection) ->
    register_projection(?DEFAULT, PathPattern, Projection, #{}).
%% @doc `register_projection(StoreId, PathPattern, Projection)' or
%% `register_projection(PathPattern, Projection, Options)'.
register_projection(S, PathPattern, Projection) when ?IS_STORE(S) ->
    register_projection(S, PathPattern, Projection, #{});
register_projection(PathPattern, Projection, Opts) when is_map(Opts) ->
    register_projection(?DEFAULT, PathPattern, Projection, Opts).
%% @doc Registers `Projection' (from `khepri_projection:new/2,3') for the
%% nodes matching `PathPattern': every member creates its ETS table(s) and
%% keeps them in step with the tree. `ok', or `{error, {khepri,
%% projection_already_exists, #{name => Name}}}'.
register_projection(S, PathPattern, Projection, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_registration:register_projection(S, PathPattern, Projection, Opts).

%% @doc Drops projections of the default store (`all' or a list of names).
unregister_projections(Names) ->
    unregister_projections(?DEFAULT, Names, #{}).
%% @doc `unregister_projections(Names, Options)' or
%% `unregister_projections(StoreId, Names)'.
unregister_projections(Names, Opts) when is_map(Opts) ->
    unregister_projections(?DEFAULT, Names, Opts);
unregister_projections(S, Names) ->
    unregister_projections(S, Names, #{}).
%% @doc Drops the named projections (`all': every one) and their tables on
%% every member; unknown names are ignored.
unregister_projections(S, Names, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_registration:unregister_projections(S, Names, Opts).

%% @doc Whether the default store has a projection named `Name'.
has_projection(Name) ->
    has_projection(?DEFAULT, Name, #{}).
%% @doc `has_projection(StoreId, Name)' or `has_projection(Name, Options)'.
has_projection(Name, Opts) when is_map(Opts) ->
    has_projection(?DEFAULT, Name, Opts);
has_projection(S, Name) ->
    has_projection(S, Name, #{}).
%% @doc Whether a projection named `Name' is registered.
has_projection(S, Name, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_registration:has_projection(S, Name, Opts).

%% @doc Counts the matches of a pattern in the default store.
count(Pattern) -> count(?DEFAULT, Pattern, #{}).
%% @doc `count(StoreId, Pattern)' or `count(Pattern, Options)'.
count(S, Pattern) when ?IS_STORE(S) -> count(S, Pattern, #{});
count(Pattern, Opts) when is_map(Opts) -> count(?DEFAULT, Pattern, Opts).
%% @doc `{ok, N}'. The root counts only for `[]' or `include_root_props'.
count(S, Pattern, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:count(S, Pattern, Opts#{expect_specific_node => false}).

%% @doc Folds over the matches of a pattern in the default store.
fold(Pattern, Fun, Acc) -> fold(?DEFAULT, Pattern, Fun, Acc, #{}).
%% @doc `fold(StoreId, Pattern, Fun, Acc)' or `fold(Pattern, Fun, Acc, Options)'.
fold(S, Pattern, Fun, Acc) when ?IS_STORE(S) -> fold(S, Pattern, Fun, Acc, #{});
fold(Pattern, Fun, Acc, Opts) when is_map(Opts) -> fold(?DEFAULT, Pattern, Fun, Acc, Opts).
%% @doc `{ok, Acc}' of `Fun(Path, Props, Acc)' over the matches, parents first.
%% Runs in the calling process on one snapshot: any call is allowed in `Fun'.
fold(S, Pattern, Fun, Acc, Opts) when ?IS_STORE(S), is_function(Fun, 3), is_map(Opts) ->
    khepri_ops:fold(S, Pattern, Fun, Acc, Opts).

%% @doc Calls `Fun(Path, Props)' for the matches in the default store.
foreach(Pattern, Fun) -> foreach(?DEFAULT, Pattern, Fun, #{}).
%% @doc `foreach(StoreId, Pattern, Fun)' or `foreach(Pattern, Fun, Options)'.
foreach(S, Pattern, Fun) when ?IS_STORE(S) -> foreach(S, Pattern, Fun, #{});
foreach(Pattern, Fun, Opts) when is_map(Opts) -> foreach(?DEFAULT, Pattern, Fun, Opts).
%% @doc `ok' after `Fun(Path, Props)' ran for each match, in the caller.
foreach(S, Pattern, Fun, Opts) when ?IS_STORE(S), is_function(Fun, 2), is_map(Opts) ->
    khepri_ops:foreach(S, Pattern, Fun, Opts).

%% @doc Maps the matches of a pattern in the default store.
map(Pattern, Fun) -> map(?DEFAULT, Pattern, Fun, #{}).
%% @doc `map(StoreId, Pattern, Fun)' or `map(Pattern, Fun, Options)'.
map(S, Pattern, Fun) when ?IS_STORE(S) -> map(S, Pattern, Fun, #{});
map(Pattern, Fun, Opts) when is_map(Opts) -> map(?DEFAULT, Pattern, Fun, Opts).
%% @doc `{ok, #{Path => Fun(Path, Props)}}'.
map(S, Pattern, Fun, Opts) when ?IS_STORE(S), is_function(Fun, 2), is_map(Opts) ->
    khepri_ops:map(S, Pattern, Fun, Opts).

%% @doc Filters the matches of a pattern in the default store.
filter(Pattern, Pred) -> filter(?DEFAULT, Pattern, Pred, #{}).
%% @doc `filter(StoreId, Pattern, Pred)' or `filter(Pattern, Pred, Options)'.
filter(S, Pattern, Pred) when ?IS_STORE(S) -> filter(S, Pattern, Pred, #{});
filter(Pattern, Pred, Opts) when is_map(Opts) -> filter(?DEFAULT, Pattern, Pred, Opts).
%% @doc `{ok, #{Path => Data | Fun | undefined}}' of the matches for which
%% `Pred(Path, Props)' is true.
filter(S, Pattern, Pred, Opts) when ?IS_STORE(S), is_function(Pred, 2), is_map(Opts) ->
    khepri_ops:filter(S, Pattern, Pred, Opts).

%% @doc Whether the default store is empty.
is_empty() -> is_empty(?DEFAULT, #{}).
%% @doc `is_empty(StoreId)' or `is_empty(Options)'.
is_empty(S) when ?IS_STORE(S) -> is_empty(S, #{});
is_empty(Opts) when is_map(Opts) -> is_empty(?DEFAULT, Opts).
%% @doc `true' when the root has no child.
is_empty(S, Opts) when ?IS_STORE(S), is_map(Opts) -> khepri_ops:is_empty(S, Opts).

%% -------------------------------------------------------------------
%% Transactions, fences and async notifications (SPEC 2.4, 4.5, 4.8).
%% -------------------------------------------------------------------

-define(IS_MODE(M), (M =:= ro orelse M =:= rw orelse M =:= auto)).

%% @doc Runs `FunOrPath' (a fun of arity 0, or the path of a stored
%% procedure) as a transaction of the default store.
transaction(FunOrPath) -> transaction(?DEFAULT, FunOrPath, [], auto, #{}).

%% @doc `transaction(StoreId, FunOrPath)', `transaction(FunOrPath, Args)',
%% `transaction(FunOrPath, Mode)' or `transaction(FunOrPath, Options)'.
transaction(S, FunOrPath) when ?IS_STORE(S) ->
    transaction(S, FunOrPath, [], auto, #{});
transaction(FunOrPath, Args) when is_list(Args) ->
    transaction(?DEFAULT, FunOrPath, Args, auto, #{});
transaction(FunOrPath, Mode) when ?IS_MODE(Mode) ->
    transaction(?DEFAULT, FunOrPath, [], Mode, #{});
transaction(FunOrPath, Opts) when is_map(Opts) ->
    transaction(?DEFAULT, FunOrPath, [], auto, Opts).

%% @doc `transaction(StoreId, FunOrPath, Args | Mode | Options)',
%% `transaction(FunOrPath, Args, Mode | Options)' or
%% `transaction(FunOrPath, Mode, Options)'.
transaction(S, FunOrPath, Args) when ?IS_STORE(S), is_list(Args) ->
    transaction(S, FunOrPath, Args, auto, #{});
transaction(S, FunOrPath, Mode) when ?IS_STORE(S), ?IS_MODE(Mode) ->
    transaction(S, FunOrPath, [], Mode, #{});
transaction(S, FunOrPath, Opts) when ?IS_STORE(S), is_map(Opts) ->
    transaction(S, FunOrPath, [], auto, Opts);
transaction(FunOrPath, Args, Mode) when is_list(Args), ?IS_MODE(Mode) ->
    transaction(?DEFAULT, FunOrPath, Args, Mode, #{});
transaction(FunOrPath, Args, Opts) when is_list(Args), is_map(Opts) ->
    transaction(?DEFAULT, FunOrPath, Args, auto, Opts);
transaction(FunOrPath, Mode, Opts) when ?IS_MODE(Mode), is_map(Opts) ->
    transaction(?DEFAULT, FunOrPath, [], Mode, Opts).

%% @doc `transaction(StoreId, FunOrPath, Args, Mode | Options)',
%% `transaction(StoreId, FunOrPath, Mode, Options)' or
%% `transaction(FunOrPath, Args, Mode, Options)'.
transaction(S, FunOrPath, Args, Mode) when ?IS_STORE(S), is_list(Args), ?IS_MODE(Mode) ->
    transaction(S, FunOrPath, Args, Mode, #{});
transaction(S, FunOrPath, Args, Opts) when ?IS_STORE(S), is_list(Args), is_map(Opts) ->
    transaction(S, FunOrPath, Args, auto, Opts);
transaction(S, FunOrPath, Mode, Opts) when ?IS_STORE(S), ?IS_MODE(Mode), is_map(Opts) ->
    transaction(S, FunOrPath, [], Mode, Opts);
transaction(FunOrPath, Args, Mode, Opts) when is_list(Args), is_map(Opts) ->
    transaction(?DEFAULT, FunOrPath, Args, Mode, Opts).

%% @doc Runs `FunOrPath' applied to `Args' in the calling process against
%% the local member's tree and commits what it wrote atomically, re-running
%% it on conflicts (SPEC 4.5): `{ok, Result}', `{error, AbortReason}',
%% `{error, timeout}', `{error, noproc}', `ok' when async. Exceptions of the
%% fun are re-raised.
transaction(S, FunOrPath, Args, Mode, Opts) when ?IS_STORE(S) ->
    khepri_transaction:run(S, FunOrPath, Args, Mode, Opts).

%% @doc Waits until the local member of the default store applied every
%% write acknowledged before the call.
fence() -> fence(?DEFAULT, khepri_env:default_timeout()).

%% @doc `fence(StoreId)' or `fence(Timeout)'.
fence(S) when ?IS_STORE(S), S =/= infinity -> fence(S, khepri_env:default_timeout());
fence(Timeout) -> fence(?DEFAULT, Timeout).

%% @doc `ok' once the local member applied every write acknowledged before
%% the call (the leader's read-index); `{error, timeout}', `{error, noproc}'.
fence(S, Timeout) when ?IS_STORE(S) ->
    ok = khepri_options:validate(#{timeout => Timeout}),
    khepri_barrier:fence(S, Timeout).

%% @doc The outcomes carried by an async notification of the default store.
handle_async_ret(RaEvent) -> handle_async_ret(?DEFAULT, RaEvent).

%% @doc `[{Correlation, Ret}]' for an `ra_event' notification (SPEC 4.8):
%% a write's `{ok, #{Path => Props}}' or `{error, _}', a transaction's
%% result, `{error, Reason}' for an abort (an exception is re-raised here),
%% `{error, {not_leader, LeaderId}}' for a rejection.
handle_async_ret(S, RaEvent) when ?IS_STORE(S) ->
    khepri_transaction:handle_async_ret(RaEvent).

%% -------------------------------------------------------------------
%% Writes (SPEC 2.3). Forms: F(Path, Data), F(S, Path, Data),
%% F(Path, Data, Options), F(S, Path, Data, Options).
%% -------------------------------------------------------------------

%% @doc Creates or updates one node of the default store.
put(Path, Data) -> put(?DEFAULT, Path, Data, #{}).
%% @doc `put(StoreId, Path, Data)' or `put(Path, Data, Options)'.
put(S, Path, Data) when ?IS_STORE(S) -> put(S, Path, Data, #{});
put(Path, Data, Opts) when is_map(Opts) -> put(?DEFAULT, Path, Data, Opts).
%% @doc Creates or updates one node, creating missing ancestors; `ok' once
%% the local member applied it.
put(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:put(S, Path, Data, Opts, simple).

%% @doc Creates or updates every match of a pattern in the default store.
put_many(Path, Data) -> put_many(?DEFAULT, Path, Data, #{}).
%% @doc `put_many(StoreId, Pattern, Data)' or `put_many(Pattern, Data, Options)'.
put_many(S, Path, Data) when ?IS_STORE(S) -> put_many(S, Path, Data, #{});
put_many(Path, Data, Opts) when is_map(Opts) -> put_many(?DEFAULT, Path, Data, Opts).
%% @doc Upserts every existing match; trailing names are created (SPEC 4.2).
put_many(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:put_many(S, Path, Data, Opts, simple).

%% @doc Creates one node of the default store.
create(Path, Data) -> create(?DEFAULT, Path, Data, #{}).
%% @doc `create(StoreId, Path, Data)' or `create(Path, Data, Options)'.
create(S, Path, Data) when ?IS_STORE(S) -> create(S, Path, Data, #{});
create(Path, Data, Opts) when is_map(Opts) -> create(?DEFAULT, Path, Data, Opts).
%% @doc Creates one node; `mismatching_node' if it exists.
create(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:create(S, Path, Data, Opts, simple).

%% @doc Updates one node of the default store.
update(Path, Data) -> update(?DEFAULT, Path, Data, #{}).
%% @doc `update(StoreId, Path, Data)' or `update(Path, Data, Options)'.
update(S, Path, Data) when ?IS_STORE(S) -> update(S, Path, Data, #{});
update(Path, Data, Opts) when is_map(Opts) -> update(?DEFAULT, Path, Data, Opts).
%% @doc Updates one existing node; `node_not_found' if it is missing.
update(S, Path, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:update(S, Path, Data, Opts, simple).

%% @doc Compare-and-swap on one node of the default store.
compare_and_swap(Path, DataPattern, Data) ->
    compare_and_swap(?DEFAULT, Path, DataPattern, Data, #{}).
%% @doc `compare_and_swap(StoreId, Path, DataPattern, Data)' or
%% `compare_and_swap(Path, DataPattern, Data, Options)'.
compare_and_swap(S, Path, DataPattern, Data) when ?IS_STORE(S) ->
    compare_and_swap(S, Path, DataPattern, Data, #{});
compare_and_swap(Path, DataPattern, Data, Opts) when is_map(Opts) ->
    compare_and_swap(?DEFAULT, Path, DataPattern, Data, Opts).
%% @doc Writes `Data' if the node's data matches `DataPattern' (a match
%% pattern); `mismatching_node' otherwise, `node_not_found' if missing.
compare_and_swap(S, Path, DataPattern, Data, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:compare_and_swap(S, Path, DataPattern, Data, Opts, simple).

%% @doc Deletes one node of the default store.
delete(Path) -> delete(?DEFAULT, Path, #{}).
%% @doc `delete(StoreId, Path)' or `delete(Path, Options)'.
delete(S, Path) when ?IS_STORE(S) -> delete(S, Path, #{});
delete(Path, Opts) when is_map(Opts) -> delete(?DEFAULT, Path, Opts).
%% @doc Deletes one node and its subtree; `ok' also when it does not exist.
delete(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:delete(S, Path, Opts, simple).

%% @doc Deletes every match of a pattern in the default store.
delete_many(Path) -> delete_many(?DEFAULT, Path, #{}).
%% @doc `delete_many(StoreId, Pattern)' or `delete_many(Pattern, Options)'.
delete_many(S, Path) when ?IS_STORE(S) -> delete_many(S, Path, #{});
delete_many(Path, Opts) when is_map(Opts) -> delete_many(?DEFAULT, Path, Opts).
%% @doc Deletes every match and its subtree; `"**"' empties the store.
delete_many(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:delete_many(S, Path, Opts, simple).

%% @doc Removes the payload of one node of the default store.
clear_payload(Path) -> clear_payload(?DEFAULT, Path, #{}).
%% @doc `clear_payload(StoreId, Path)' or `clear_payload(Path, Options)'.
clear_payload(S, Path) when ?IS_STORE(S) -> clear_payload(S, Path, #{});
clear_payload(Path, Opts) when is_map(Opts) -> clear_payload(?DEFAULT, Path, Opts).
%% @doc Removes the payload of one node; a missing node is not an error.
clear_payload(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:clear_payload(S, Path, Opts, simple).

%% @doc Removes the payloads of the matches in the default store.
clear_many_payloads(Path) -> clear_many_payloads(?DEFAULT, Path, #{}).
%% @doc `clear_many_payloads(StoreId, Pattern)' or `(Pattern, Options)'.
clear_many_payloads(S, Path) when ?IS_STORE(S) -> clear_many_payloads(S, Path, #{});
clear_many_payloads(Path, Opts) when is_map(Opts) -> clear_many_payloads(?DEFAULT, Path, Opts).
%% @doc Removes the payload of every existing match.
clear_many_payloads(S, Path, Opts) when ?IS_STORE(S), is_map(Opts) ->
    khepri_ops:clear_many_payloads(S, Path, Opts, simple).

%% -------------------------------------------------------------------
%% Bang variants (SPEC 2.5): the unwrapped value, or erlang:error(Reason).
%% -------------------------------------------------------------------

%% @doc Like `get/1', unwrapped. @see get/1
'get!'(P) -> unwrap(get(P)).
%% @doc Like `get/2', unwrapped.
'get!'(A, B) -> unwrap(get(A, B)).
%% @doc Like `get/3', unwrapped.
'get!'(A, B, C) -> unwrap(get(A, B, C)).
%% @doc Like `get_or/2', unwrapped.
'get_or!'(A, B) -> unwrap(get_or(A, B)).
%% @doc Like `get_or/3', unwrapped.
'get_or!'(A, B, C) -> unwrap(get_or(A, B, C)).
%% @doc Like `get_or/4', unwrapped.
'get_or!'(A, B, C, D) -> unwrap(get_or(A, B, C, D)).
%% @doc Like `get_many/1', unwrapped.
'get_many!'(P) -> unwrap(get_many(P)).
%% @doc Like `get_many/2', unwrapped.
'get_many!'(A, B) -> unwrap(get_many(A, B)).
%% @doc Like `get_many/3', unwrapped.
'get_many!'(A, B, C) -> unwrap(get_many(A, B, C)).
%% @doc Like `get_many_or/2', unwrapped.
'get_many_or!'(A, B) -> unwrap(get_many_or(A, B)).
%% @doc Like `get_many_or/3', unwrapped.
'get_many_or!'(A, B, C) -> unwrap(get_many_or(A, B, C)).
%% @doc Like `get_many_or/4', unwrapped.
'get_many_or!'(A, B, C, D) -> unwrap(get_many_or(A, B, C, D)).
%% @doc Like `exists/1', unwrapped.
'exists!'(P) -> unwrap(exists(P)).
%% @doc Like `exists/2', unwrapped.
'exists!'(A, B) -> unwrap(exists(A, B)).
%% @doc Like `exists/3', unwrapped.
'exists!'(A, B, C) -> unwrap(exists(A, B, C)).
%% @doc Like `has_data/1', unwrapped.
'has_data!'(P) -> unwrap(has_data(P)).
%% @doc Like `has_data/2', unwrapped.
'has_data!'(A, B) -> unwrap(has_data(A, B)).
%% @doc Like `has_data/3', unwrapped.
'has_data!'(A, B, C) -> unwrap(has_data(A, B, C)).
%% @doc Like `is_sproc/1', unwrapped.
'is_sproc!'(P) -> unwrap(is_sproc(P)).
%% @doc Like `is_sproc/2', unwrapped.
'is_sproc!'(A, B) -> unwrap(is_sproc(A, B)).
%% @doc Like `is_sproc/3', unwrapped.
'is_sproc!'(A, B, C) -> unwrap(is_sproc(A, B, C)).
%% @doc Like `count/1', unwrapped.
'count!'(P) -> unwrap(count(P)).
%% @doc Like `count/2', unwrapped.
'count!'(A, B) -> unwrap(count(A, B)).
%% @doc Like `count/3', unwrapped.
'count!'(A, B, C) -> unwrap(count(A, B, C)).
%% @doc Like `put/2', unwrapped.
'put!'(A, B) -> unwrap(put(A, B)).
%% @doc Like `put/3', unwrapped.
'put!'(A, B, C) -> unwrap(put(A, B, C)).
%% @doc Like `put/4', unwrapped.
'put!'(A, B, C, D) -> unwrap(put(A, B, C, D)).
%% @doc Like `put_many/2', unwrapped.
'put_many!'(A, B) -> unwrap(put_many(A, B)).
%% @doc Like `put_many/3', unwrapped.
'put_many!'(A, B, C) -> unwrap(put_many(A, B, C)).
%% @doc Like `put_many/4', unwrapped.
'put_many!'(A, B, C, D) -> unwrap(put_many(A, B, C, D)).
%% @doc Like `create/2', unwrapped.
'create!'(A, B) -> unwrap(create(A, B)).
%% @doc Like `create/3', unwrapped.
'create!'(A, B, C) -> unwrap(create(A, B, C)).
%% @doc Like `create/4', unwrapped.
'create!'(A, B, C, D) -> unwrap(create(A, B, C, D)).
%% @doc Like `update/2', unwrapped.
'update!'(A, B) -> unwrap(update(A, B)).
%% @doc Like `update/3', unwrapped.
'update!'(A, B, C) -> unwrap(update(A, B, C)).
%% @doc Like `update/4', unwrapped.
'update!'(A, B, C, D) -> unwrap(update(A, B, C, D)).
%% @doc Like `compare_and_swap/3', unwrapped.
'compare_and_swap!'(A, B, C) -> unwrap(compare_and_swap(A, B, C)).
%% @doc Like `compare_and_swap/4', unwrapped.
'compare_and_swap!'(A, B, C, D) -> unwrap(compare_and_swap(A, B, C, D)).
%% @doc Like `compare_and_swap/5', unwrapped.
'compare_and_swap!'(A, B, C, D, E) -> unwrap(compare_and_swap(A, B, C, D, E)).
%% @doc Like `delete/1', unwrapped.
'delete!'(P) -> unwrap(delete(P)).
%% @doc Like `delete/2', unwrapped.
'delete!'(A, B) -> unwrap(delete(A, B)).
%% @doc Like `delete/3', unwrapped.
'delete!'(A, B, C) -> unwrap(delete(A, B, C)).
%% @doc Like `delete_many/1', unwrapped.
'delete_many!'(P) -> unwrap(delete_many(P)).
%% @doc Like `delete_many/2', unwrapped.
'delete_many!'(A, B) -> unwrap(delete_many(A, B)).
%% @doc Like `delete_many/3', unwrapped.
'delete_many!'(A, B, C) -> unwrap(delete_many(A, B, C)).
%% @doc Like `clear_payload/1', unwrapped.
'clear_payload!'(P) -> unwrap(clear_payload(P)).
%% @doc Like `clear_payload/2', unwrapped.
'clear_payload!'(A, B) -> unwrap(clear_payload(A, B)).
%% @doc Like `clear_payload/3', unwrapped.
'clear_payload!'(A, B, C) -> unwrap(clear_payload(A, B, C)).
%% @doc Like `clear_many_payloads/1', unwrapped.
'clear_many_payloads!'(P) -> unwrap(clear_many_payloads(P)).
%% @doc Like `clear_many_payloads/2', unwrapped.
'clear_many_payloads!'(A, B) -> unwrap(clear_many_payloads(A, B)).
%% @doc Like `clear_many_payloads/3', unwrapped.
'clear_many_payloads!'(A, B, C) -> unwrap(clear_many_payloads(A, B, C)).

unwrap(ok) -> ok;
unwrap({ok, Value}) -> Value;
unwrap(Bool) when is_boolean(Bool) -> Bool;
unwrap({error, Reason}) -> erlang:error(Reason).

%% -------------------------------------------------------------------
%% Export and import (SPEC 4.10).
%% -------------------------------------------------------------------

%% @doc Exports the whole default store.
export(Module, Priv) -> export(?DEFAULT, [?KHEPRI_WILDCARD_STAR_STAR], Module, Priv).
%% @doc `export(StoreId, Module, Priv)' or `export(Pattern, Module, Priv)'.
export(S, Module, Priv) when ?IS_STORE(S), is_atom(Module) ->
    export(S, [?KHEPRI_WILDCARD_STAR_STAR], Module, Priv);
export(Pattern, Module, Priv) when is_atom(Module) -> export(?DEFAULT, Pattern, Module, Priv).
%% @doc Writes the nodes matching `Pattern' with the `khepri_import_export'
%% module `Module'; `ok', `{ok, Priv}' or `{error, _}'.
export(S, Pattern, Module, Priv) when ?IS_STORE(S), is_atom(Module) ->
    khepri_backup:export(S, Pattern, Module, Priv).

%% @doc Imports into the default store.
import(Module, Priv) -> import(?DEFAULT, Module, Priv).
%% @doc Applies the items read by `Module' from `Priv', in order, each as its
%% own write; the first error stops the import and is returned.
import(S, Module, Priv) when ?IS_STORE(S), is_atom(Module) ->
    khepri_backup:import(S, Module, Priv).

%% -------------------------------------------------------------------
%% Info.
%% -------------------------------------------------------------------

%% @doc Prints the default store.
info() ->
    info(khepri_env:default_store_id()).

%% @doc Prints a store's member and tree to stdout.
info(StoreId) ->
    info(StoreId, #{}).

%% @doc Prints a store's member and tree to stdout (free text).
-spec info(store_id(), map()) -> ok | {error, noproc}.
info(StoreId, Options) when is_atom(StoreId), is_map(Options) ->
    ok = khepri_options:validate(Options),
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            io:format("~n\e[1;32m== KHEPRI STORE ~s ==\e[0m~n~n"
                      "Member: ~p~nApplied index: ~b~n~nTree:~n",
                      [StoreId, {StoreId, node()},
                       khepri_nif:applied_index(Engine)]),
            [print_node(Path, Payload) || {Path, Payload} <- khepri_nif:dump(Engine)],
            %% Conditions someone set; not the implicit one of auto-created
            %% parents (kept while they have a payload or children).
            Implicit = #if_any{conditions = [#if_child_list_length{count = {gt, 0}},
                                             #if_has_payload{has_payload = true}]},
            KeepWhile = [{Path, KW} || {Path, _, #{keep_while := KW}}
                                           <- khepri_nif:export(Engine, [?KHEPRI_WILDCARD_STAR_STAR]),
                                       KW =/= #{Path => Implicit}],
            case KeepWhile of
                [] -> ok;
                _ -> io:format("~nKeep while conditions:~n"),
                     [io:format("  ~ts:~n~ts", [khepri_path:to_string(Path), format_keep_while(KW)])
                      || {Path, KW} <- KeepWhile]
            end,
            ok;
        error ->
            {error, noproc}
    end.

format_keep_while(KW) ->
    [io_lib:format("    ~0p => ~0p~n", [Key, Cond]) || {Key, Cond} <- lists:sort(maps:to_list(KW))].

print_node(Path, Payload) ->
    Indent = lists:duplicate(2 * length(Path), $\s),
    Name = case Path of
               [] -> "/";
               _ -> khepri_path:to_string([lists:last(Path)])
           end,
    case Payload of
        none -> io:format("~s~ts~n", [Indent, Name]);
        {data, Data} -> io:format("~s~ts = ~0p~n", [Indent, Name, Data]);
        {sproc, Fun} -> io:format("~s~ts = (sproc) ~0p~n", [Indent, Name, Fun])
    end.
