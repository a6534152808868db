%% @doc Linearizability of a 3-member cluster under faults: clients on every
%% member run `put', consistent `get' and `compare_and_swap' on a few keys
%% while the test kills the leader's node or cuts the leader or a follower
%% off (then heals it); the recorded history is checked with
%% `khepri_linearizability'. Each run has a fresh cluster.
%%
%% Timestamps are `os:system_time(nanosecond)', taken by the clients on the
%% peers: every VM runs on this host and reads the same OS clock, whereas
%% each VM's `erlang:monotonic_time' has its own origin (and may be slewed
%% by its own time correction).
%%
%% Every invocation is sent to a collector on the test node, and
%% acknowledged, before the call starts: an operation in flight on a node
%% that is killed is in the history (as indeterminate) even though its
%% client dies with the node.
-module(khepri_cluster_linearizability_tests).

-include_lib("eunit/include/eunit.hrl").

%% Run on the peers.
-export([client/1, leader/1]).

-define(S, lin_store).
-define(RUNS, 20).
-define(MEMBERS, 3).
-define(CLIENTS_PER_NODE, 2).
-define(KEYS, [k1, k2, k3]).
%% Up to this long between a client's operations: keeps histories to a few
%% thousand operations, which the checker handles in about a second.
-define(THINK_MS, 10).
%% Per operation: about a failover (election 300-600 ms, 200 ms retries),
%% so that some calls time out; shorter than a cut, so that cut-off
%% clients time out too.
-define(OP_TIMEOUT, 1500).
%% Workload timing: clients run this long before the fault, at least this
%% long during it, and at least this long after the heal (or the failover).
-define(BEFORE_FAULT_MS, 500).
-define(FAULT_MS, 2000).
-define(AFTER_MS, 500).
%% Completed operations required after the fault (and after the heal, from
%% the healed node) so that a run cannot pass vacuously.
-define(MIN_AFTER_FAULT, 10).
-define(MIN_AFTER_HEAL, 1).
%% Bound of each wait on a condition; the peers share 2 cores with builds.
-define(WAIT_MS, 30000).
-define(CALL_TIMEOUT, 60000).

%% -------------------------------------------------------------------
%% Tests
%% -------------------------------------------------------------------

linearizable_under_faults_test_() ->
    Kinds = [kill_leader, cut_leader, cut_follower],
    [{lists:flatten(io_lib:format("run ~b: ~s", [N, Kind])),
      {timeout, 180, fun() -> run(N, Kind) end}}
     || N <- lists:seq(1, ?RUNS),
        Kind <- [lists:nth((N - 1) rem length(Kinds) + 1, Kinds)]].

%% -------------------------------------------------------------------
%% One run
%% -------------------------------------------------------------------

run(N, Kind) ->
    T0 = erlang:monotonic_time(millisecond),
    with_cluster(N, fun(Nodes, Peers) ->
        SetupMs = erlang:monotonic_time(millisecond) - T0,
        Collector = spawn_link(fun() -> collector(#{}, #{}) end),
        try
            Clients = start_clients(Nodes, Collector),
            Collector ! {clients, Clients},
            pause(?BEFORE_FAULT_MS),
            Fault = inject(Kind, Nodes, Peers, Collector),
            [Pid ! stop || {_, Pid} <- Clients],
            Ops = history(Collector),
            ElapsedMs = erlang:monotonic_time(millisecond) - T0,
            check_run(N, Kind, Fault, Ops, {SetupMs, ElapsedMs})
        after
            unlink(Collector),
            exit(Collector, kill)
        end
    end).

%% The fault, while the clients run; returns the victim node and the times
%% (OS clock, as the clients') the fault began and, for a cut, was healed.
inject(kill_leader, Nodes, Peers, Collector) ->
    Leader = find_leader(Nodes),
    Others = Nodes -- [Leader],
    FaultAt = now_ns(),
    ok = peer:stop(proplists:get_value(Leader, Peers)),
    pause(?FAULT_MS),
    wait_progress(Collector, FaultAt, Others, ?MIN_AFTER_FAULT),
    pause(?AFTER_MS),
    #{victim => Leader, fault_at => FaultAt};
inject(Kind, Nodes, _Peers, Collector) when Kind =:= cut_leader;
                                            Kind =:= cut_follower ->
    Leader = find_leader(Nodes),
    Victim = case Kind of
                 cut_leader -> Leader;
                 cut_follower -> hd(Nodes -- [Leader])
             end,
    Others = Nodes -- [Victim],
    FaultAt = now_ns(),
    cut(Victim, Others),
    pause(?FAULT_MS),
    wait_progress(Collector, FaultAt, Others, ?MIN_AFTER_FAULT),
    HealAt = now_ns(),
    heal(Victim, Others),
    pause(?AFTER_MS),
    %% the healed node serves again (a consistent read or a write there
    %% needs the leader)
    wait_progress(Collector, HealAt, [Victim], ?MIN_AFTER_HEAL),
    #{victim => Victim, fault_at => FaultAt, heal_at => HealAt}.

check_run(N, Kind, #{victim := Victim, fault_at := FaultAt}, Ops, {SetupMs, ElapsedMs}) ->
    Unexpected = [Op || #{result := {unexpected, _}} = Op <- Ops],
    ?assertEqual([], Unexpected),
    Exceptions = lists:usort([R || #{result := {exception, R}} <- Ops]),
    Done = [Op || #{complete := C} = Op <- Ops, C =/= infinity],
    Indeterminate = length(Ops) - length(Done),
    AfterFault = [Op || #{invoke := I} = Op <- Done, I > FaultAt],
    %% A read whose outcome is unknown constrains nothing: left out.
    History = [Op || #{op := O, complete := C} = Op <- Ops,
                  not (O =:= get andalso C =:= infinity)],
    {CheckUs, Verdict} = timer:tc(fun() -> khepri_linearizability:check(History) end),
    io:format(user, "~nlin run ~2b ~-12s victim ~s: ~b ops, ~b indeterminate; "
              "completed: ~s; invoked after the fault and completed: ~s; "
              "checked in ~b ms; run ~b ms (~b ms cluster start)~s~n",
              [N, Kind, Victim, length(Ops), Indeterminate, summary(Done),
               summary(AfterFault), CheckUs div 1000, ElapsedMs, SetupMs,
               case Exceptions of
                   [] -> "";
                   _ -> io_lib:format("; exceptions (indeterminate): ~0p", [Exceptions])
               end]),
    case Verdict of
        ok ->
            ok;
        {violation, Key, KeyOps} ->
            report_violation(N, Key, KeyOps, FaultAt),
            ?assertEqual(ok, {violation, Key})
    end,
    ?assert(length(Done) >= 2 * ?MIN_AFTER_FAULT),
    ?assert(length(AfterFault) >= ?MIN_AFTER_FAULT),
    assert_detects_stale_read(History).

%% The history's times are meaningful: a read added after two reads that
%% saw `V1' then, strictly later, `V2', and seeing `V1' again, is caught
%% (each value is written once, so `V1' cannot come back).
assert_detects_stale_read(History) ->
    Gets = lists:sort([{I, C, K, V} || #{op := get, invoke := I, complete := C,
                                         key := K, result := {ok, V}} <- History,
                                       C =/= infinity]),
    case reads_of_two_values(Gets) of
        {K, V1, C2} ->
            Stale = #{key => K, invoke => C2 + 1, complete => C2 + 2,
                      op => get, result => {ok, V1}, node => 'stale@read',
                      id => stale},
            ?assertMatch({violation, K, _},
                         khepri_linearizability:check(
                           [Stale | [O || #{key := K1} = O <- History, K1 =:= K]]));
        none ->
            %% would not happen with hundreds of reads of 3 keys
            erlang:error(no_two_reads_of_different_values)
    end.

%% The first read (by invocation) followed, strictly later, by a read of
%% the same key that saw another value; that one's completion time.
reads_of_two_values([{_, C1, K, V1} | Rest]) ->
    case [C2 || {I2, C2, K2, V2} <- Rest, K2 =:= K, I2 > C1, V2 =/= V1] of
        [C2 | _] -> {K, V1, C2};
        [] -> reads_of_two_values(Rest)
    end;
reads_of_two_values([]) ->
    none.

summary(Done) ->
    Count = fun(P) -> length([O || O <- Done, P(O)]) end,
    io_lib:format("~b put, ~b get (~b not_found), ~b cas (~b ok)",
                  [Count(fun(#{op := {put, _}}) -> true; (_) -> false end),
                   Count(fun(#{op := get}) -> true; (_) -> false end),
                   Count(fun(#{op := get, result := not_found}) -> true; (_) -> false end),
                   Count(fun(#{op := {cas, _, _}}) -> true; (_) -> false end),
                   Count(fun(#{op := {cas, _, _}, result := ok}) -> true; (_) -> false end)]).

%% Prints where the violation shows (the shortest failing prefix, see
%% `prefix/2'): its last operations, and the writes of the values they name;
%% the whole sub-history goes to a file.
report_violation(Run, Key, KeyOps, FaultAt) ->
    Times = list_to_tuple(lists:usort([C || #{complete := C} <- KeyOps, C =/= infinity])),
    T = first_failing(KeyOps, Times, 1, tuple_size(Times)),
    Prefix = by_invoke(prefix(KeyOps, T)),
    Tail = lists:nthtail(max(0, length(Prefix) - 25), Prefix),
    Named = lists:usort(lists:append([values(Op) || Op <- Tail])),
    InTail = [Id || #{id := Id} <- Tail],
    Writers = [Op || #{op := O, id := Id} = Op <- by_invoke(KeyOps),
                     not lists:member(Id, InTail),
                     case O of
                         {put, V} -> lists:member(V, Named);
                         {cas, _, V} -> lists:member(V, Named);
                         get -> false
                     end],
    File = filename:join(filename:basedir(user_cache, "khepri-rs-tests"),
                         lists:flatten(io_lib:format("lin-violation-~b-~b.txt",
                                                     [Run, os:system_time(second)]))),
    ok = filelib:ensure_dir(File),
    ok = file:write_file(File, [format_op(Op, FaultAt) || Op <- by_invoke(KeyOps)]),
    io:format(user, "~nVIOLATION on key ~p; first fails with the operations completed "
              "by ~b us after the fault (those invoked before and not completed by "
              "then are taken as indeterminate). Times in us from the fault; "
              "whole sub-history in ~ts~nwrites of the values named below:~n~s"
              "last operations of that prefix:~n~s",
              [Key, (T - FaultAt) div 1000, File,
               [format_op(Op, FaultAt) || Op <- Writers],
               [format_op(Op, FaultAt) || Op <- Tail]]).

%% The operations completed by `T', and those invoked before and still
%% running (as indeterminate). Linearizable whenever the whole history is,
%% and so for every later `T' once it is not: the smallest failing `T' is
%% where the violation shows.
prefix(Ops, T) ->
    [case C =< T of
         true -> Op;
         false -> Op#{complete => infinity}
     end || #{invoke := I, complete := C} = Op <- Ops, I < T].

first_failing(_Ops, Times, Lo, Lo) ->
    element(Lo, Times);
first_failing(Ops, Times, Lo, Hi) ->
    Mid = (Lo + Hi) div 2,
    case khepri_linearizability:check(prefix(Ops, element(Mid, Times))) of
        ok -> first_failing(Ops, Times, Mid + 1, Hi);
        {violation, _, _} -> first_failing(Ops, Times, Lo, Mid)
    end.

by_invoke(Ops) ->
    lists:sort(fun(#{invoke := A}, #{invoke := B}) -> A =< B end, Ops).

values(#{op := {put, V}}) -> [V];
values(#{op := {cas, E, V}}) -> [E, V];
values(#{result := {ok, V}}) -> [V];
values(_) -> [].

format_op(#{invoke := I, complete := C, op := Op, result := R, node := Node}, FaultAt) ->
    Rel = fun(infinity) -> infinity; (X) -> (X - FaultAt) div 1000 end,
    io_lib:format("  ~10w .. ~10w ~s ~0p -> ~0p~n",
                  [Rel(I), Rel(C), hd(string:split(atom_to_list(Node), "@")), Op,
                   case C of infinity -> indeterminate; _ -> R end]).

%% -------------------------------------------------------------------
%% Faults
%% -------------------------------------------------------------------

%% The node every live member agrees leads (and which says so itself).
find_leader(Nodes) ->
    wait_for(fun() ->
                     case lists:usort([on(N, ?MODULE, leader, [?S]) || N <- Nodes]) of
                         [L] when is_binary(L) ->
                             Node = binary_to_atom(L),
                             lists:member(Node, Nodes) andalso {ok, Node};
                         _ ->
                             false
                     end
             end, ?WAIT_MS).

%% @private Runs on a peer: the leader this member knows, or `undefined'.
leader(S) ->
    case khepri_store:engine(S) of
        {ok, Engine} -> khepri_nif:leader(Engine);
        error -> undefined
    end.

%% Cuts `Node' from `Others' both ways, and keeps it cut: each side is given
%% a cookie for the other that the other does not use, so no message can
%% bring the connection back. The test node keeps its cookie, and its
%% connection to everybody (the clients report through it).
cut(Node, Others) ->
    [begin
         true = on(Node, erlang, set_cookie, [O, lin_cut_a]),
         true = on(O, erlang, set_cookie, [Node, lin_cut_b]),
         _ = on(Node, erlang, disconnect_node, [O]),
         _ = on(O, erlang, disconnect_node, [Node])
     end || O <- Others],
    wait_until(fun() -> not connected(Node, Others) end).

heal(Node, Others) ->
    [begin
         true = on(Node, erlang, set_cookie, [O, on(Node, erlang, get_cookie, [])]),
         true = on(O, erlang, set_cookie, [Node, on(O, erlang, get_cookie, [])]),
         %% retried: a handshake begun under the old cookies may still fail
         wait_until(fun() -> on(Node, net_kernel, connect_node, [O]) end),
         wait_until(fun() -> on(O, net_kernel, connect_node, [Node]) end)
     end || O <- Others],
    ok.

connected(Node, Others) ->
    Seen = on(Node, erlang, nodes, []),
    lists:any(fun(O) ->
                      lists:member(O, Seen) orelse
                          lists:member(Node, on(O, erlang, nodes, []))
              end, Others).

%% Until at least `Min' operations invoked after `Since' by clients on
%% `Nodes' completed.
wait_progress(Collector, Since, Nodes, Min) ->
    wait_until(fun() ->
                       Ref = make_ref(),
                       Collector ! {progress, self(), Ref, Since, Nodes},
                       receive
                           {Ref, Count} -> Count >= Min
                       after ?CALL_TIMEOUT -> erlang:error(collector_not_answering)
                       end
               end).

%% -------------------------------------------------------------------
%% Clients
%% -------------------------------------------------------------------

start_clients(Nodes, Collector) ->
    Numbered = lists:zip(lists:seq(1, length(Nodes) * ?CLIENTS_PER_NODE),
                         [N || N <- Nodes, _ <- lists:seq(1, ?CLIENTS_PER_NODE)]),
    [{Node, spawn(Node, ?MODULE, client,
                  [#{id => Id, node => Node, collector => Collector,
                     seed => {Id, erlang:unique_integer([positive]), 42}}])}
     || {Id, Node} <- Numbered].

%% @private Runs on a peer: random operations on `?KEYS' until told to stop.
%% Each value written is `{ClientId, Seq}': unique, and a ground term, so it
%% matches only itself as a `compare_and_swap' pattern.
client(#{seed := Seed} = Args) ->
    _ = rand:seed(exsss, Seed),
    client_loop(Args, 1, #{}).

client_loop(#{id := Id, node := Node, collector := Collector} = Args, Seq, Seen) ->
    receive
        stop -> ok
    after rand:uniform(?THINK_MS) ->
        Key = lists:nth(rand:uniform(length(?KEYS)), ?KEYS),
        Op = case rand:uniform(10) of
                 R when R =< 3 -> {put, {Id, Seq}};
                 R when R =< 7 -> get;
                 %% expects the last value this client saw, often current
                 _ -> {cas, maps:get(Key, Seen, {Id, none}), {Id, Seq}}
             end,
        %% taken before the collector knows of the call, so that it is
        %% earlier than the call even if this node dies during it
        Invoke = now_ns(),
        Collector ! {invoke, self(), Seq, Key, Op, Node, Invoke},
        receive
            {ack, Seq} -> ok
        after ?CALL_TIMEOUT -> exit(collector_not_answering)
        end,
        Result = try call(Key, Op) of
                     Raw -> result(Op, Raw)
                 catch
                     Class:Reason -> {exception, {Class, Reason}}
                 end,
        Complete = now_ns(),
        Collector ! {complete, self(), Seq, Complete, Result},
        case Result of
            {unexpected, _} -> exit(unexpected_result);
            _ -> client_loop(Args, Seq + 1, saw(Key, Op, Result, Seen))
        end
    end.

call(Key, {put, V}) ->
    khepri:put(?S, [lin, Key], V, #{timeout => ?OP_TIMEOUT});
call(Key, get) ->
    khepri:get(?S, [lin, Key], #{favor => consistency, timeout => ?OP_TIMEOUT});
call(Key, {cas, Expected, V}) ->
    khepri:compare_and_swap(?S, [lin, Key], Expected, V, #{timeout => ?OP_TIMEOUT}).

%% The checker's vocabulary. A timeout or a stopped member is indeterminate
%% (`timeout'); any other shape fails the test.
result(_, {error, timeout}) -> timeout;
result(_, {error, noproc}) -> timeout;
result({put, _}, ok) -> ok;
result(get, {ok, V}) -> {ok, V};
result(get, {error, {khepri, node_not_found, _}}) -> not_found;
result({cas, _, _}, ok) -> ok;
result({cas, _, _}, {error, {khepri, mismatching_node, _}}) -> mismatch;
%% compare_and_swap on a missing node: it fails and writes nothing, which
%% is the checker's mismatch (absent is not `{ok, Expected}').
result({cas, _, _}, {error, {khepri, node_not_found, _}}) -> mismatch;
result(_, Other) -> {unexpected, Other}.

saw(Key, _, {ok, V}, Seen) -> Seen#{Key => V};
saw(Key, {put, V}, ok, Seen) -> Seen#{Key => V};
saw(Key, {cas, _, V}, ok, Seen) -> Seen#{Key => V};
saw(_, _, _, Seen) -> Seen.

now_ns() ->
    os:system_time(nanosecond).

%% -------------------------------------------------------------------
%% Collector (on the test node)
%% -------------------------------------------------------------------

%% `Ops' by `{Pid, Seq}'; the clients are monitored: a `DOWN' comes after
%% every message its client sent, so once all are down the history is
%% whole. An invocation without completion is indeterminate.
collector(Ops, Live) ->
    receive
        {clients, Clients} ->
            collector(Ops, maps:from_list([{erlang:monitor(process, Pid), Pid}
                                           || {_, Pid} <- Clients]));
        {invoke, Pid, Seq, Key, Op, Node, Invoke} ->
            Pid ! {ack, Seq},
            collector(Ops#{{Pid, Seq} => #{id => {Pid, Seq}, key => Key, op => Op,
                                            node => Node,
                                            invoke => Invoke,
                                            complete => infinity,
                                            result => timeout}}, Live);
        {complete, Pid, Seq, Complete, Result} ->
            #{{Pid, Seq} := Op} = Ops,
            Done = case Result of
                       timeout -> Op;
                       {exception, _} -> Op#{result => Result};
                       _ -> Op#{complete => Complete, result => Result}
                   end,
            collector(Ops#{{Pid, Seq} := Done}, Live);
        {progress, From, Ref, Since, Nodes} ->
            From ! {Ref, length([O || #{invoke := I, complete := C, node := N} = O
                                          <- maps:values(Ops),
                                      C =/= infinity, I > Since,
                                      lists:member(N, Nodes)])},
            collector(Ops, Live);
        {'DOWN', MRef, process, _, _} ->
            collector(Ops, maps:remove(MRef, Live));
        {history, From, Ref} when map_size(Live) =:= 0 ->
            From ! {Ref, maps:values(Ops)},
            collector(Ops, Live)
    end.

history(Collector) ->
    Ref = make_ref(),
    Collector ! {history, self(), Ref},
    receive
        {Ref, Ops} -> Ops
    after ?CALL_TIMEOUT + ?OP_TIMEOUT ->
        erlang:error(clients_did_not_stop)
    end.

%% -------------------------------------------------------------------
%% Cluster
%% -------------------------------------------------------------------

%% `Fun(Nodes, [{Node, Peer}])' on a fresh cluster of `?MEMBERS' peers
%% (the cluster suite's); the peers are stopped and their directories
%% removed whatever happens.
with_cluster(Run, Fun) ->
    khepri_cluster_tests:with_cluster(
      "lin" ++ integer_to_list(Run), ?S, ?MEMBERS,
      fun(Nodes, Peers, _Dirs) -> Fun(Nodes, lists:zip(Nodes, Peers)) end).

on(Node, M, F, A) ->
    erpc:call(Node, M, F, A, ?CALL_TIMEOUT).

%% -------------------------------------------------------------------
%% Waiting
%% -------------------------------------------------------------------

%% Workload timing only (how long the clients run), never synchronisation.
pause(Ms) ->
    receive after Ms -> ok end.

wait_until(Pred) ->
    ok = khepri_test_helpers:wait_until(Pred, ?WAIT_MS).

%% Like `wait_until', for a `Fun' answering `{ok, Value}' or `false'.
wait_for(Fun, TimeoutMs) ->
    Self = self(),
    Ref = make_ref(),
    ok = khepri_test_helpers:wait_until(
           fun() ->
                   case Fun() of
                       {ok, V} -> Self ! {Ref, V}, true;
                       false -> false
                   end
           end, TimeoutMs),
    receive {Ref, V} -> V after 0 -> erlang:error(lost_value) end.
