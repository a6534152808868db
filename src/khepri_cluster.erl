%% @doc Store ids, store lifecycle and clustering (SPEC 2.8, 4.9).
%%
%% Members talk over Erlang distribution, relayed by the store processes
%% (`khepri_store'); a cluster is formed by joining a node by name.
%% Membership changes run on the leader, one member at a time.
-module(khepri_cluster).

-include("khepri.hrl").

-compile({no_auto_import, [nodes/1, nodes/2]}).

-export([start/0, start/1, start/2, start/3, stop/0, stop/1,
         join/1, join/2, join/3, reset/0, reset/1, reset/2,
         members/0, members/1, members/2, nodes/0, nodes/1, nodes/2,
         wait_for_leader/0, wait_for_leader/1, wait_for_leader/2,
         wait_for_effective_machine_version/2, wait_for_effective_machine_version/3,
         wait_for_effective_behaviour/2, wait_for_effective_behaviour/3,
         get_default_store_id/0, get_store_ids/0, is_store_running/1,
         get_default_ra_system_or_data_dir/0, node_to_member/2, this_member/1]).

%% How often a member that is not up yet, or a change without a leader, is
%% tried again.
-define(RETRY_MS, 200).
%% The machine version this engine reports (SPEC 2.8).
-define(MACHINE_VERSION, 4).
-define(IS_TIMEOUT(T), (T =:= infinity orelse (is_integer(T) andalso T >= 0))).

%% @doc Same as `khepri:start/0'.
start() -> khepri:start().
%% @doc Same as `khepri:start/1'.
start(D) -> khepri:start(D).
%% @doc Same as `khepri:start/2'.
start(D, S) -> khepri:start(D, S).
%% @doc Same as `khepri:start/3'.
start(D, S, T) -> khepri:start(D, S, T).
%% @doc Same as `khepri:stop/0'.
stop() -> khepri:stop().
%% @doc Same as `khepri:stop/1'.
stop(S) -> khepri:stop(S).

%% @doc The application's `default_store_id' (default `khepri').
get_default_store_id() -> khepri_env:default_store_id().

%% @doc The stores running on this node.
get_store_ids() -> khepri:get_store_ids().

%% @doc True when `StoreId' runs on this node.
is_store_running(StoreId) when is_atom(StoreId) -> whereis(StoreId) =/= undefined.

%% @doc The default data directory or system name.
get_default_ra_system_or_data_dir() -> khepri_env:default_data_dir().

%% @doc The member id of `StoreId' on `Node'.
node_to_member(StoreId, Node) when is_atom(StoreId), is_atom(Node) -> {StoreId, Node}.

%% @doc The member id of `StoreId' on this node.
this_member(StoreId) when is_atom(StoreId) -> {StoreId, node()}.

%% -------------------------------------------------------------------
%% Join and reset.
%% -------------------------------------------------------------------

%% @doc Joins the default store's cluster on `RemoteNode' (or `{S, Node}').
join(RemoteNode) when is_atom(RemoteNode) ->
    join(get_default_store_id(), RemoteNode, khepri_env:default_timeout());
join({S, RemoteNode}) when is_atom(S), is_atom(RemoteNode) ->
    join(S, RemoteNode, khepri_env:default_timeout()).

%% @doc `join(RemoteNode, Timeout)', `join({S, RemoteNode}, Timeout)' or
%% `join(S, RemoteNode)'.
join(RemoteNode, Timeout) when is_atom(RemoteNode), ?IS_TIMEOUT(Timeout) ->
    join(get_default_store_id(), RemoteNode, Timeout);
join({S, RemoteNode}, Timeout) when is_atom(S), is_atom(RemoteNode), ?IS_TIMEOUT(Timeout) ->
    join(S, RemoteNode, Timeout);
join(S, RemoteNode) when is_atom(S), is_atom(RemoteNode) ->
    join(S, RemoteNode, khepri_env:default_timeout()).

%% @doc Makes the local member of `S' a member of the cluster `RemoteNode'
%% belongs to. The local data are deleted first (SPEC 4.9); already a member
%% ⇒ `ok'. On failure the local store runs again as a fresh one-member
%% cluster and the error is returned.
-spec join(atom(), node() | {atom(), node()}, timeout()) -> ok | {error, term()}.
join(S, {S, RemoteNode}, Timeout) when is_atom(RemoteNode) ->
    join(S, RemoteNode, Timeout);
join(S, RemoteNode, Timeout) when is_atom(S), is_atom(RemoteNode), ?IS_TIMEOUT(Timeout) ->
    Deadline = khepri_command:deadline(Timeout),
    %% Connected first, so that the lock covers the remote node too.
    _ = RemoteNode =:= node() orelse net_adm:ping(RemoteNode),
    locked(S, Timeout,
           fun(_Engine) when RemoteNode =:= node() -> ok;
              (Engine) -> join_remote(S, Engine, RemoteNode, Deadline)
           end).

%% Runs `Fun(Engine)' under the store's lock (SPEC 4.9). The store is looked
%% up under it: a reset or stop that held it may have stopped the store.
locked(S, Timeout, Fun) ->
    khepri_store_lock:with(
      S, Timeout,
      fun() ->
              case khepri_store:engine(S) of
                  error -> {error, ?khepri_error(not_a_khepri_store, #{store_id => S})};
                  {ok, Engine} -> Fun(Engine)
              end
      end).

join_remote(S, Engine, RemoteNode, Deadline) ->
    case remote_members(S, RemoteNode, Deadline) of
        {ok, Remote} ->
            Local = [binary_to_atom(N, utf8) || N <- khepri_nif:members(Engine)],
            case lists:member(node(), Remote) andalso lists:member(RemoteNode, Local) of
                true -> ok;
                false -> rejoin(S, RemoteNode, Remote, Deadline)
            end;
        error ->
            {error, ?khepri_error(failed_to_join_remote_khepri_node,
                                  #{store_id => S, node => RemoteNode})}
    end.

%% The remote member's view of the membership, or `error' when the node is
%% unreachable or runs no such store.
remote_members(S, RemoteNode, Deadline) ->
    case net_adm:ping(RemoteNode) of
        pang ->
            error;
        pong ->
            try erpc:call(RemoteNode, khepri_cluster, nodes,
                          [S, #{favor => low_latency}], call_timeout(Deadline)) of
                {ok, Nodes} -> {ok, Nodes};
                _ -> error
            catch
                _:_ -> error
            end
    end.

rejoin(S, RemoteNode, Remote, Deadline) ->
    {ok, Dir, Config} = gen_server:call(S, info, call_timeout(Deadline)),
    %% A stale entry for this node (its data were deleted since) goes first.
    Stale = case lists:member(node(), Remote) of
                true -> change_member(S, RemoteNode, remove, node(), Deadline);
                false -> ok
            end,
    case Stale of
        ok ->
            ok = recreate(S, Dir, Config#{join => true}),
            case change_member(S, RemoteNode, add, node(), Deadline) of
                ok ->
                    ok;
                {error, _} = Error ->
                    ok = recreate(S, Dir, Config),
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% Stops the local member, deletes its data and starts it again.
recreate(S, Dir, Config) ->
    ok = khepri:stop(S),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    {ok, _} = khepri_sup:start_store(S, Dir, Config),
    ok.

%% Asks the leader, found from `Node', to add or remove `Member'. Retried
%% while there is no leader or a change is under way, until `Deadline'.
change_member(S, Node, Change, Member, Deadline) ->
    Dest = {S, Node},
    Mon = erlang:monitor(process, Dest),
    Left = khepri_command:remaining(Deadline),
    TimeoutMs = case Left of infinity -> 3600 * 1000; _ -> Left end,
    Dest ! {'$khepri_change_member', self(), Mon, Change,
            atom_to_binary(Member, utf8), TimeoutMs},
    Reply = receive
                {Mon, R} -> R;
                {'DOWN', Mon, process, _, _} -> {error, noproc}
            after Left ->
                {error, timeout}
            end,
    erlang:demonitor(Mon, [flush]),
    case Reply of
        ok ->
            ok;
        {error, {not_leader, Leader}} when is_binary(Leader) ->
            change_member(S, binary_to_atom(Leader, utf8), Change, Member, Deadline);
        {error, timeout} ->
            {error, timeout};
        {error, _} = Error ->
            case khepri_command:pause(?RETRY_MS, Deadline) of
                ok -> change_member(S, Node, Change, Member, Deadline);
                timeout -> retry_error(Error)
            end
    end.

retry_error({error, {not_leader, _}}) -> {error, timeout};
retry_error(Error) -> Error.

%% @doc Same as `reset(get_default_store_id())'.
reset() -> reset(get_default_store_id()).

%% @doc `reset(S)' or `reset(Timeout)'.
reset(S) when is_atom(S) -> reset(S, khepri_env:default_timeout());
reset(Timeout) when ?IS_TIMEOUT(Timeout) -> reset(get_default_store_id(), Timeout).

%% @doc Leaves the cluster (needs a quorum), deletes the local data and stops
%% the local member; `start' again to use the store id.
-spec reset(atom(), timeout()) -> ok | {error, term()}.
reset(S, Timeout) when is_atom(S), ?IS_TIMEOUT(Timeout) ->
    Deadline = khepri_command:deadline(Timeout),
    locked(S, Timeout, fun(Engine) -> leave(S, Engine, Deadline) end).

leave(S, Engine, Deadline) ->
    Others = [N || N <- khepri_nif:members(Engine),
                   N =/= atom_to_binary(node(), utf8)],
    Left = case Others of
               [] -> ok;
               _ -> change_member(S, leader_or_self(Engine), remove, node(), Deadline)
           end,
    case Left of
        ok ->
            {ok, Dir, _} = gen_server:call(S, info, call_timeout(Deadline)),
            ok = khepri:stop(S),
            _ = file:del_dir_r(Dir),
            ok;
        {error, _} = Error ->
            Error
    end.

leader_or_self(Engine) ->
    case khepri_nif:leader(Engine) of
        Leader when is_binary(Leader) -> binary_to_atom(Leader, utf8);
        undefined -> node()
    end.

%% -------------------------------------------------------------------
%% Members and leader.
%% -------------------------------------------------------------------

%% @doc The default store's members, `[{S, Node}]' sorted.
members() -> members(get_default_store_id()).
%% @doc `members(S)' or `members(Options)'.
members(S) when is_atom(S) -> members(S, #{});
members(Opts) when is_map(Opts) -> members(get_default_store_id(), Opts).
%% @doc Voters and non-voters of `S': the leader's committed view with
%% `favor => consistency' (default), the local member's with `low_latency'.
members(S, Opts) when is_atom(S), is_map(Opts) ->
    case nodes(S, Opts) of
        {ok, Nodes} -> {ok, [{S, N} || N <- Nodes]};
        Error -> Error
    end.

%% @doc The default store's member nodes, sorted.
nodes() -> nodes(get_default_store_id()).
%% @doc `nodes(S)' or `nodes(Options)'.
nodes(S) when is_atom(S) -> nodes(S, #{});
nodes(Opts) when is_map(Opts) -> nodes(get_default_store_id(), Opts).
%% @doc Like `members/2', the nodes only.
nodes(S, Opts) when is_atom(S), is_map(Opts) ->
    case khepri_store:engine(S) of
        error ->
            {error, noproc};
        {ok, Engine} ->
            Ready = case maps:get(favor, Opts, consistency) of
                        low_latency -> ok;
                        _ -> khepri:fence(S, khepri_options:timeout(Opts))
                    end,
            case Ready of
                ok -> {ok, lists:sort([binary_to_atom(N, utf8)
                                       || N <- khepri_nif:members(Engine)])};
                Error -> Error
            end
    end.

%% @doc Waits until the default store's local member knows a leader.
wait_for_leader() -> wait_for_leader(get_default_store_id()).
%% @doc `wait_for_leader(S | {S, Node})' with the default timeout.
wait_for_leader(S) -> wait_for_leader(S, khepri_env:default_timeout()).
%% @doc `ok' once the member (`S' here, or `{S, Node}') knows a leader,
%% itself or another; `{error, timeout}' after `Timeout'.
wait_for_leader({S, Node}, Timeout) when Node =:= node() ->
    wait_for_leader(S, Timeout);
wait_for_leader({S, Node}, Timeout) when is_atom(S), is_atom(Node), ?IS_TIMEOUT(Timeout) ->
    try erpc:call(Node, khepri_cluster, wait_for_leader, [S, Timeout],
                  call_timeout(khepri_command:deadline(Timeout)))
    catch _:_ -> {error, timeout}
    end;
wait_for_leader(S, Timeout) when is_atom(S), ?IS_TIMEOUT(Timeout) ->
    wait_for_leader_until(S, khepri_command:deadline(Timeout)).

wait_for_leader_until(S, Deadline) ->
    case khepri_store:engine(S) of
        {ok, Engine} ->
            Ref = make_ref(),
            Ms = case khepri_command:remaining(Deadline) of
                     infinity -> 3600 * 1000;
                     Left -> Left
                 end,
            ok = khepri_nif:wait_for_leader(Engine, Ref, undefined, Ms),
            case khepri_command:await(Ref, Deadline) of
                ok -> ok;
                {error, timeout} when Deadline =:= infinity -> wait_for_leader_until(S, Deadline);
                {error, _} = Error -> Error
            end;
        error ->
            %% Not up yet: tried again every 200 ms (SPEC 2.8).
            case khepri_command:pause(?RETRY_MS, Deadline) of
                ok -> wait_for_leader_until(S, Deadline);
                timeout -> {error, timeout}
            end
    end.

%% @doc Same as `wait_for_effective_machine_version(S, Version, default)'.
wait_for_effective_machine_version(S, Version) ->
    wait_for_effective_machine_version(S, Version, khepri_env:default_timeout()).
%% @doc `ok' once the cluster runs machine version `Version' (or `latest');
%% every member of this engine runs version 4, so a later version is never
%% reached: `{error, timeout}' once `Timeout' has passed (SPEC 4.11).
wait_for_effective_machine_version(S, Version, Timeout) ->
    Deadline = khepri_command:deadline(Timeout),
    case wait_for_leader(S, Timeout) of
        ok when Version =:= latest; is_integer(Version), Version =< ?MACHINE_VERSION ->
            ok;
        ok ->
            receive after khepri_command:remaining(Deadline) -> {error, timeout} end;
        Error ->
            Error
    end.

%% @doc Same as `wait_for_effective_behaviour(S, Behaviour, default)'.
wait_for_effective_behaviour(S, Behaviour) ->
    wait_for_effective_behaviour(S, Behaviour, khepri_env:default_timeout()).
%% @doc `ok' once the cluster supports API behaviour `Behaviour'.
wait_for_effective_behaviour(S, Behaviour, Timeout) ->
    %% Upstream passes behaviour names (`khepri_tx:does_api_comply_with/1');
    %% every member of this engine has all of them.
    case khepri_tx:does_api_comply_with(Behaviour) of
        true -> wait_for_leader(S, Timeout);
        false -> {error, ?khepri_error(unknown_api_hehaviour, #{behaviour => Behaviour})}
    end.

call_timeout(infinity) -> infinity;
call_timeout(Deadline) -> max(1, khepri_command:remaining(Deadline)).
