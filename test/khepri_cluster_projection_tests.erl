%% @doc Projections and triggers on a 3-member cluster of real peer nodes
%% (SPEC 4.6, 4.7): after concurrent churn from every node, a restart and a
%% catch-up by snapshot, every member's tables equal what its tree says; a
%% write returning on a follower is already in that follower's tables; a
%% trigger runs once per event on the leader, and again on the next leader
%% when the first one died before acknowledging it.
-module(khepri_cluster_projection_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

%% Run on peers.
-export([register_all/1, churn/2, tables_in_step/1, put_then_lookup/3,
         register_slow/1, put_then_lookup_slow/3]).

-import(khepri_cluster_tests, [with_cluster/4, on/4, on/5]).

-define(CALL_TIMEOUT, 120000).
-define(WAIT_MS, 20000).

projections_converge_test_() ->
    {timeout, 600, fun() ->
        S = clp_converge,
        %% snapshots every few commands, so that the restarted member
        %% below catches up by snapshot (its tables then follow a diff)
        Config = #{cluster_name => S, machine_config => #{snapshot_interval => 64}},
        with_cluster("proj", Config, 3, fun([A, B, C] = Nodes, _, Dirs) ->
            ok = on(A, ?MODULE, register_all, [S]),
            %% read-your-writes through ETS on a follower and on the leader
            [?assertEqual([{[c, ryw, atom_to_binary(N)], N}],
                          on(N, ?MODULE, put_then_lookup, [S, [c, ryw, atom_to_binary(N)], N]))
             || N <- Nodes],
            run_everywhere(Nodes, churn, [S, 150]),
            assert_all_in_step(S, Nodes),
            %% a member restarted from its directory refills its tables
            ok = on(B, khepri, stop, [S]),
            ok = on(A, ?MODULE, churn, [S, 100], ?CALL_TIMEOUT),
            ?assertEqual({ok, S}, on(B, khepri, start, [lists:nth(2, Dirs), Config])),
            assert_all_in_step(S, Nodes),
            %% a member that missed more than the others kept in their logs
            ok = on(C, khepri, stop, [S]),
            ok = on(A, ?MODULE, churn, [S, 600], ?CALL_TIMEOUT),
            ?assertEqual({ok, S}, on(C, khepri, start, [lists:last(Dirs), Config])),
            assert_all_in_step(S, Nodes),
            run_everywhere(Nodes, churn, [S, 50]),
            assert_all_in_step(S, Nodes)
        end)
    end}.

%% A write made on a follower returns once that follower's projections show
%% it, even when the follower carries them out long after the leader did:
%% the leader's answer alone is not enough.
follower_write_waits_for_slow_projections_test_() ->
    {timeout, 120, fun() ->
        S = clp_slow,
        with_cluster("slowproj", S, 3, fun([A | _] = Nodes, _, _) ->
            Leader = binary_to_atom(on(A, khepri_cluster_tests, leader_name, [S])),
            Followers = Nodes -- [Leader],
            [ok = on(F, persistent_term, put, [clp_slow_ms, 300]) || F <- Followers],
            ok = on(A, ?MODULE, register_slow, [S]),
            [?assertEqual(ok, on(N, khepri, fence, [S, 10000])) || N <- Nodes],
            [?assertEqual([{[slow, atom_to_binary(F)], F}],
                          on(F, ?MODULE, put_then_lookup_slow, [S, [slow, atom_to_binary(F)], F]))
             || F <- Followers]
        end)
    end}.

triggers_run_once_on_the_leader_test_() ->
    {timeout, 300, fun() ->
        S = clp_triggers,
        with_cluster("trig", S, 3, fun([A | _] = Nodes, _, _) ->
            Leader = binary_to_atom(on(A, khepri_cluster_tests, leader_name, [S])),
            Ref = make_ref(),
            Self = self(),
            ok = on(A, khepri, put, [S, [sprocs, report],
                                     fun(#khepri_trigger{event = #{path := P, change := Ch}}) ->
                                             Self ! {Ref, node(), P, Ch}
                                     end]),
            ok = on(A, khepri, register_trigger,
                    [S, report, [t, ?KHEPRI_WILDCARD_STAR], [sprocs, report]]),
            [ok = on(N, khepri, put, [S, [t, atom_to_binary(N)], 1]) || N <- Nodes],
            Fired = [receive {Ref, Where, P, Ch} -> {Where, P, Ch}
                     after ?WAIT_MS -> error(not_fired)
                     end || _ <- Nodes],
            ?assertEqual(lists:sort([{Leader, [t, atom_to_binary(N)], create} || N <- Nodes]),
                         lists:sort(Fired)),
            %% and only once: a later firing comes next
            ok = on(A, khepri, put, [S, [t, last], 1]),
            ?assertEqual({Leader, [t, last], create},
                         receive {Ref, W, P, Ch} -> {W, P, Ch} after ?WAIT_MS -> none end)
        end)
    end}.

%% The leader's node dies while running a firing, before acknowledging it:
%% the next leader runs it (at-least-once).
trigger_runs_again_on_a_new_leader_test_() ->
    {timeout, 300, fun() ->
        S = clp_failover,
        with_cluster("trigfail", S, 3, fun([A | _] = Nodes, _, _) ->
            Leader = binary_to_atom(on(A, khepri_cluster_tests, leader_name, [S])),
            [Other | _] = Nodes -- [Leader],
            Ref = make_ref(),
            Self = self(),
            Sproc = fun(#khepri_trigger{event = #{path := P}}) ->
                            case node() of
                                Leader -> erlang:halt(0, [{flush, false}]);
                                Here -> Self ! {Ref, Here, P}
                            end
                    end,
            ok = on(Other, khepri, put, [S, [sprocs, fragile], Sproc]),
            ok = on(Other, khepri, register_trigger,
                    [S, fragile, [f, ?KHEPRI_WILDCARD_STAR], [sprocs, fragile]]),
            ok = on(Other, khepri, put, [S, [f, x], 1]),
            receive
                {Ref, NewLeader, Path} ->
                    ?assertNotEqual(Leader, NewLeader),
                    ?assertEqual([f, x], Path)
            after ?WAIT_MS ->
                error(not_run_again)
            end
        end)
    end}.

%% -------------------------------------------------------------------
%% Helpers (the projections and churn of `khepri_projection_sync_tests')
%% -------------------------------------------------------------------

run_everywhere(Nodes, F, Args) ->
    Self = self(),
    Refs = [begin
                Ref = make_ref(),
                spawn_link(fun() -> Self ! {Ref, on(N, ?MODULE, F, Args, ?CALL_TIMEOUT)} end),
                Ref
            end || N <- Nodes],
    [receive {Ref, ok} -> ok after ?CALL_TIMEOUT -> error(timeout) end || Ref <- Refs],
    ok.

assert_all_in_step(S, Nodes) ->
    [?assertEqual({N, ok}, {N, on(N, ?MODULE, tables_in_step, [S])}) || N <- Nodes],
    %% and equal across members
    [Ref | Others] = [[on(N, ets, tab2list, [T]) || T <- khepri_projection_sync_tests:tables()]
                      || N <- Nodes],
    [?assertEqual(lists:map(fun lists:sort/1, Ref), lists:map(fun lists:sort/1, O))
     || O <- Others],
    ok.

%% @private
register_all(S) ->
    [ok = khepri:register_projection(S, Pattern, P)
     || {Pattern, P} <- khepri_projection_sync_tests:projections()],
    ok.

%% @private A projection whose fun takes `clp_slow_ms' (a persistent term
%% of the node running it, 0 when unset) per record.
register_slow(S) ->
    Slow = khepri_projection:new(proj_slow, fun(Path, Value) ->
                                                    timer:sleep(persistent_term:get(clp_slow_ms, 0)),
                                                    {Path, Value}
                                            end),
    khepri:register_projection(S, [slow, ?KHEPRI_WILDCARD_STAR], Slow).

%% @private A put, then its record looked up at once in `proj_slow'.
put_then_lookup_slow(S, Path, Value) ->
    ok = khepri:put(S, Path, Value),
    ets:lookup(proj_slow, Path).

%% @private Random writes from this node, with its own random seed.
churn(S, N) ->
    rand:seed(exsss, erlang:phash2({node(), erlang:unique_integer()})),
    khepri_projection_sync_tests:churn(S, N, fun() -> ok end).

%% @private After a fence, this member's tables equal its tree's.
tables_in_step(S) ->
    ok = khepri:fence(S, 30000),
    Diffs = [{T, Expected, Actual}
             || T <- khepri_projection_sync_tests:tables(),
                Expected <- [khepri_projection_sync_tests:recompute(S, T)],
                Actual <- [lists:sort(ets:tab2list(T))],
                Expected =/= Actual],
    case Diffs of
        [] -> ok;
        _ -> {differ, Diffs}
    end.

%% @private A put, then its record looked up at once in this node's copy
%% projection.
put_then_lookup(S, Path, Value) ->
    ok = khepri:put(S, Path, {Path, Value}),
    [{Path, {Path, Value}}] = ets:lookup(proj_simple, Path),
    ets:lookup(proj_copy, Path).
