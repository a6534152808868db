%% @doc The crash harness's checks. On the harness node: `converge/3' waits
%% until every member has applied the same index and holds the same tree, and
%% `no_loss/4' checks that a member reads back every acknowledged write. The
%% functions marked "runs on a member" are called there with `erpc'.
-module(khepri_crash_check).

-include("khepri.hrl").

-export([converge/3, no_loss/4, lost/3]).
%% Run on a member.
-export([sample/1, lost_here/3, applied_index/1]).

%% Between two samples of the trees while waiting for convergence: each
%% sample reads every tree in full.
-define(SAMPLE_EVERY_MS, 200).

%% @doc Waits, up to `TimeoutMs', until every member knows a leader, has
%% applied the same index as the others and holds a tree with the same
%% digest. Returns `{ok, #{index, keys, digest}}', or `{error, Samples}'
%% with what each member last reported; `{error, {diverged, Samples}}' at
%% once if two members report different trees at the same applied index.
converge(Store, Members, TimeoutMs) ->
    Deadline = erlang:monotonic_time(millisecond) + TimeoutMs,
    [ok = khepri_crash_node:call(M, khepri_cluster, wait_for_leader, [Store, TimeoutMs])
     || M <- Members],
    converge_until(Store, Members, Deadline).

converge_until(Store, Members, Deadline) ->
    Samples = [{maps:get(name, M), khepri_crash_node:call(M, ?MODULE, sample, [Store])}
               || M <- Members],
    Stable = [S || {_, {ok, S}} <- Samples],
    case lists:usort(Stable) of
        [#{} = Agreed] when length(Stable) =:= length(Members) ->
            {ok, Agreed};
        Distinct ->
            case diverged(Distinct) of
                true ->
                    {error, {diverged, Samples}};
                false ->
                    case erlang:monotonic_time(millisecond) > Deadline of
                        true ->
                            {error, Samples};
                        false ->
                            receive after ?SAMPLE_EVERY_MS -> ok end,
                            converge_until(Store, Members, Deadline)
                    end
            end
    end.

%% Two trees at the same applied index must be the same tree.
diverged(Samples) ->
    Indexes = [I || #{index := I} <- Samples],
    length(lists:usort(Indexes)) < length(Samples).

%% @doc `ok' when `Reader' reads back every write the recorder saw
%% acknowledged, and the recorder saw no violation (an acknowledgement
%% without quorum, an unexpected result); else fails naming `Trial'.
no_loss(Store, Recorder, Reader, Trial) ->
    case lost(Store, Reader, khepri_crash_recorder:acked(Recorder)) of
        [] -> ok;
        Lost -> erlang:error({acknowledged_writes_lost, Trial, maps:get(name, Reader),
                              length(Lost), lists:sublist(Lost, 20)})
    end,
    case khepri_crash_recorder:summary(Recorder) of
        #{violations := [], errors := []} -> ok;
        #{violations := Vs, errors := Es} ->
            erlang:error({violations, Trial, lists:sublist(Vs, 20), lists:sublist(Es, 20)})
    end.

%% @doc The acknowledged writes (`#{Key => Value}') that `Member' cannot read
%% back with their value, through a consistent read, as `{lost, Key, Found}';
%% and the harness keys holding a value their writer never writes, as
%% `{bad, Key, Value}'. `[]' when all is well.
lost(Store, Member, Acked) ->
    khepri_crash_node:call(Member, ?MODULE, lost_here, [Store, Acked, 30000]).

%% @private Runs on a member: its applied index, the digest of its whole tree
%% and how many harness keys it holds, as `{ok, Sample}' when the applied
%% index did not move during the read (else `moving'); `{error, Reason}'
%% when the tree cannot be read.
sample(Store) ->
    Before = applied_index(Store),
    case khepri:get_many(Store, [?KHEPRI_WILDCARD_STAR_STAR], #{favor => low_latency}) of
        {ok, Tree} ->
            case applied_index(Store) of
                Before ->
                    Keys = length([P || P <- maps:keys(Tree),
                                        khepri_crash_writer:is_harness_key(P)]),
                    %% deterministic: equal maps, equal bytes
                    Digest = erlang:md5(term_to_binary(Tree, [deterministic])),
                    {ok, #{index => Before, keys => Keys, digest => Digest}};
                _ ->
                    moving
            end;
        Error ->
            {error, Error}
    end.

%% @private Runs on a member: `Acked' keys missing from, or with another
%% value in, a consistent read of the whole tree; and any harness key whose
%% value is not the one its writer writes (a corrupted or invented entry).
lost_here(Store, Acked, TimeoutMs) ->
    {ok, Tree} = khepri:get_many(Store, [?KHEPRI_WILDCARD_STAR_STAR],
                                 #{favor => consistency, timeout => TimeoutMs}),
    Lost = [{lost, K, maps:get(K, Tree, missing)}
            || {K, V} <- maps:to_list(Acked), maps:get(K, Tree, missing) =/= V],
    Bad = [{bad, K, V} || {K, V} <- maps:to_list(Tree), khepri_crash_writer:is_harness_key(K),
                          V =/= khepri_crash_writer:value(K)],
    Lost ++ Bad.

%% @private Runs on a member: the index of the last entry it applied.
applied_index(Store) ->
    {ok, Engine} = khepri_store:engine(Store),
    khepri_nif:applied_index(Engine).
