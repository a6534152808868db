%% @doc Durability under SIGKILL: a separate BEAM node writes as fast as it
%% can and reports every acknowledged key; the test kills its OS process at
%% a random moment, restarts a store on the same directory in a new node and
%% checks that every acknowledged key is there. Five kills per run.
-module(khepri_durability_tests).

-include_lib("eunit/include/eunit.hrl").

-export([start_writers/3, missing/2]).

-import(khepri_test_helpers, [tmp_dir/1, ensure_distributed/0, peer_args/0]).

-define(STORE, durable).
-define(KILLS, 5).
-define(WRITERS, 20).
-define(KEYS_PER_ROUND, 1000000).

acknowledged_writes_survive_sigkill_test_() ->
    {timeout, 600, fun() ->
        ok = ensure_distributed(),
        Dir = tmp_dir("sigkill"),
        try
            Acked = lists:foldl(
                      fun(Round, Acc) -> kill_round(Dir, Round, Acc) end,
                      [], lists:seq(1, ?KILLS)),
            %% a last node only checks
            {Peer, Node, _OsPid} = start_node(Dir),
            ?assertEqual([], erpc:call(Node, ?MODULE, missing, [?STORE, Acked], 120000)),
            peer:stop(Peer),
            ?debugFmt("~b acknowledged writes survived ~b SIGKILLs",
                      [length(Acked), ?KILLS]),
            ?assert(length(Acked) >= 1000)
        after
            _ = file:del_dir_r(Dir)
        end
    end}.

kill_round(Dir, Round, Acked) ->
    {Peer, Node, OsPid} = start_node(Dir),
    %% everything acknowledged before earlier kills is still there
    ?assertEqual([], erpc:call(Node, ?MODULE, missing, [?STORE, Acked], 120000)),
    erlang:monitor_node(Node, true),
    ok = erpc:call(Node, ?MODULE, start_writers,
                   [self(), Round * ?KEYS_PER_ROUND, ?WRITERS]),
    %% let some writes be acknowledged, then kill at a random moment
    receive {acked, _} = First -> self() ! First after 30000 -> error(no_ack) end,
    receive after 20 + rand:uniform(400) -> ok end,
    _ = os:cmd("kill -9 " ++ OsPid),
    receive {nodedown, Node} -> ok after 30000 -> error(peer_not_killed) end,
    catch peer:stop(Peer),
    New = drain_acks([]),
    ?assert(New =/= []),
    New ++ Acked.

%% Always the same node name: a member's Raft id derives from it, and a
%% crashed node comes back under its own name.
start_node(Dir) ->
    Name = list_to_atom("khepri_durable_" ++ os:getpid()),
    {ok, Peer, Node} = peer:start(#{name => Name, args => peer_args(),
                                    wait_boot => 60000}),
    OsPid = erpc:call(Node, os, getpid, []),
    {ok, ?STORE} = erpc:call(Node, khepri, start, [Dir, ?STORE], 120000),
    {Peer, Node, OsPid}.

drain_acks(Acc) ->
    receive {acked, K} -> drain_acks([K | Acc]) after 0 -> Acc end.

%% @private Runs on the peer: `Count' writers putting distinct keys in a loop
%% and reporting each acknowledged one to `Test'.
start_writers(Test, Base, Count) ->
    [spawn(fun() -> write_loop(Test, Base + W, Count) end)
     || W <- lists:seq(1, Count)],
    ok.

write_loop(Test, K, Step) ->
    ok = khepri:put(?STORE, key(K), K),
    Test ! {acked, K},
    write_loop(Test, K + Step, Step).

%% @private Runs on the peer: the acknowledged keys that cannot be read back.
missing(Store, Keys) ->
    [K || K <- Keys, khepri:get(Store, key(K)) =/= {ok, K}].

key(K) -> [durable, integer_to_binary(K)].
