%% @doc Start, stop, join and reset of one store id are serialised across
%% connected nodes (SPEC 4.9): while the store's lock is held elsewhere,
%% they wait, and give `{error, timeout}' when it is not freed in time.
-module(khepri_store_lock_tests).

-include_lib("eunit/include/eunit.hrl").

-import(khepri_test_helpers, [tmp_dir/1]).

-define(WAIT_MS, 10000).

one_node_test() ->
    Dir = tmp_dir("store_lock"),
    S = lock_one,
    {ok, _} = application:ensure_all_started(khepri),
    Holder = hold(node(), S),
    try
        ?assertEqual({error, timeout}, khepri:start(Dir, S, 200)),
        ?assertEqual({error, timeout}, khepri_cluster:reset(S, 200)),
        ?assertEqual(false, khepri_cluster:is_store_running(S)),
        release(Holder),
        ?assertEqual({ok, S}, khepri:start(Dir, S, 5000)),
        %% under a lock this process holds, nested calls go on
        ?assertEqual(ok, khepri_store_lock:with(S, 200, fun() -> khepri:stop(S) end)),
        ?assertEqual(false, khepri_cluster:is_store_running(S))
    after
        release(Holder),
        _ = khepri:stop(S),
        _ = file:del_dir_r(Dir)
    end.

%% The lock taken on one member's node holds up a reset and a start on
%% another's; the cluster is unchanged until it is freed.
across_nodes_test_() ->
    {timeout, 120, fun() ->
        S = lock_two,
        khepri_cluster_tests:with_cluster("lock", S, 2, fun([N1, N2], _Peers, [D1, _]) ->
            Holder = hold(N2, S),
            ?assertEqual({error, timeout},
                         khepri_cluster_tests:on(N1, khepri_cluster, reset, [S, 300])),
            ?assertEqual({error, timeout},
                         khepri_cluster_tests:on(N1, khepri, start, [D1, S, 300])),
            release(Holder),
            ?assertEqual({ok, S}, khepri_cluster_tests:on(N1, khepri, start, [D1, S, 5000])),
            ?assertEqual({ok, lists:sort([N1, N2])},
                         khepri_cluster_tests:on(N1, khepri_cluster, nodes, [S]))
        end)
    end}.

%% A process on `Node' holding the lock of `S' until released.
hold(Node, S) ->
    Parent = self(),
    Holder = spawn(Node, fun() ->
                                 khepri_store_lock:with(
                                   S, infinity,
                                   fun() ->
                                           Parent ! {held, self()},
                                           receive release -> ok end
                                   end)
                         end),
    receive
        {held, Holder} -> Holder
    after ?WAIT_MS ->
        error(lock_not_taken)
    end.

release(Holder) ->
    Holder ! release,
    ok.
