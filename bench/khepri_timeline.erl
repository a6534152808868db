%% @doc Where a replicated write's time goes: 3 members (this VM and two
%% peers on loopback), one writer on the leader, every member's engine
%% built with the `timeline' feature and marking the stages of
%% `native/khepri_raft/src/timeline.rs' into `KHEPRI_TIMELINE_DIR'. Prints
%% the writer's p50 and the median time between consecutive stages, taking
%% for each write the follower that answered first. Run by
%% `bench/timeline.sh'.
-module(khepri_timeline).

-export([main/0]).

-define(STORE, timeline).
-define(WARMUP_MS, 1000).
-define(MEASURE_MS, 5000).

%% The path a write takes, as {stage code (timeline.rs), label of the step
%% that ends there}: on the leader until the request leaves, on the
%% follower, then on the leader again. A traced write is the tuple of these
%% stages' times, in this order.
-define(SUBMITTED, 1).
-define(FLUSHER_SYNCED, 5).
-define(LEADER_OUT, [{?SUBMITTED, "put's NIF call"},
                     {2, "handed to openraft (the engine thread woke)"},
                     {3, "leader's log append starts"},
                     {4, "leader's log written (its sync runs on the flusher)"},
                     {6, "AppendEntries handed to the store process"}]).
-define(FOLLOWER, [{11, "at the follower's engine (store processes, distribution)"},
                   {12, "its task runs (the follower's engine thread woke)"},
                   {3, "follower's log append starts (decode, openraft)"},
                   {4, "follower's log written and fdatasync'd"},
                   {13, "openraft answered"},
                   {14, "answer handed to the store process"}]).
-define(LEADER_BACK, [{7, "answer at the leader's engine (store processes, distribution)"},
                      {8, "commit, apply, writer answered"}]).
-define(PATH, (?LEADER_OUT ++ ?FOLLOWER ++ ?LEADER_BACK)).
%% Positions in a traced write: the leader's log written, the answer in.
-define(AT_LEADER_WRITTEN, 4).
-define(AT_ANSWER_IN, (length(?LEADER_OUT) + length(?FOLLOWER) + 1)).

%% @doc Runs the cluster, then prints the figures; halts the VM (status 1
%% on a failure).
main() ->
    try run() of
        ok -> halt()
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "timeline failed: ~0p:~0p~n~0p~n", [Class, Reason, Stack]),
            halt(1)
    end.

run() ->
    Dir = os:getenv("KHEPRI_TIMELINE_DIR"),
    logger:set_primary_config(level, warning),
    Data = filename:join(Dir, "data"),
    Peers = start_peers(),
    try
        {ok, ?STORE} = khepri:start(filename:join(Data, "n1"), ?STORE),
        lists:foreach(
          fun({I, {_, Node}}) ->
                  NodeDir = filename:join(Data, "n" ++ integer_to_list(I)),
                  {ok, ?STORE} = erpc:call(Node, khepri, start, [NodeDir, ?STORE]),
                  ok = erpc:call(Node, khepri_cluster, join, [?STORE, node(), 30000])
          end, lists:zip([2, 3], Peers)),
        ok = khepri_cluster:wait_for_leader(?STORE, 10000),
        _ = write(?WARMUP_MS),
        Start = os:perf_counter(nanosecond),
        Latencies = lists:sort(write(?MEASURE_MS)),
        %% The marks reach their files every 200 ms.
        timer:sleep(600),
        io:format("~b writes in ~b ms, writer's p50 ~.1f us~n",
                  [length(Latencies), ?MEASURE_MS, median(Latencies)]),
        report(read_marks(Dir), Start)
    after
        [catch peer:stop(P) || {P, _} <- Peers],
        catch khepri:stop(?STORE)
    end.

start_peers() ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Paths = lists:append([["-pa", P] || P <- code:get_path(),
                                       not lists:prefix(code:root_dir(), P), P =/= "."]),
    Args = ["-kernel", "inet_dist_use_interface", "{127,0,0,1}",
            "-kernel", "logger_level", "warning" | Paths],
    [begin
         Name = list_to_atom("timeline" ++ os:getpid() ++ "_" ++ integer_to_list(I)),
         {ok, Pid, Node} = peer:start(#{name => Name, host => Host,
                                        longnames => true, args => Args}),
         {Pid, Node}
     end || I <- [2, 3]].

%% One writer on this (the leader's) node for `Ms'; latencies in us.
write(Ms) ->
    End = erlang:monotonic_time(millisecond) + Ms,
    write(End, 0, []).

write(End, I, Acc) ->
    case erlang:monotonic_time(millisecond) < End of
        false ->
            Acc;
        true ->
            T0 = os:perf_counter(nanosecond),
            ok = khepri:put(?STORE, [k, integer_to_binary(I)], I),
            write(End, I + 1, [(os:perf_counter(nanosecond) - T0) / 1000 | Acc])
    end.

%% #{OsPid => #{Stage => tuple of sorted ns}}.
read_marks(Dir) ->
    maps:from_list(
      [begin
           {ok, Bin} = file:read_file(File),
           Marks = [begin
                        [S, T] = binary:split(Line, <<" ">>),
                        {binary_to_integer(S), binary_to_integer(T)}
                    end || Line <- binary:split(Bin, <<"\n">>, [global, trim_all])],
           ByStage = maps:groups_from_list(fun({S, _}) -> S end, fun({_, T}) -> T end, Marks),
           {File, maps:map(fun(_, Ts) -> list_to_tuple(lists:sort(Ts)) end, ByStage)}
       end || File <- filelib:wildcard(filename:join(Dir, "*.txt"))]).

report(Members, Start) ->
    {[Leader], Followers} = lists:partition(fun(M) -> is_map_key(?SUBMITTED, M) end,
                                            maps:values(Members)),
    Submitted = [T || T <- tuple_to_list(maps:get(?SUBMITTED, Leader)), T >= Start],
    Writes = trace_all(Submitted, Leader, Followers, []),
    io:format("~b writes traced; median time between stages:~n", [length(Writes)]),
    Steps = lists:zip(lists:droplast(?PATH), tl(?PATH)),
    lists:foldl(
      fun({_, {_, Label}}, N) ->
              Gaps = lists:sort([element(N + 1, W) - element(N, W) || W <- Writes]),
              io:format("  ~7.1f us  ~s~n", [median(Gaps) / 1000, Label]),
              N + 1
      end, 1, Steps),
    Totals = lists:sort([element(tuple_size(W), W) - element(1, W) || W <- Writes]),
    io:format("  ~7.1f us  in all (median of the whole path)~n", [median(Totals) / 1000]),
    Before = [W || W <- Writes, flusher_synced(Leader, W) < element(?AT_ANSWER_IN, W)],
    io:format("  the leader's own fdatasync (on the flusher) ended before the follower's "
              "answer arrived for ~b of ~b writes~n", [length(Before), length(Writes)]).

%% Each write: a tuple of the times of ?PATH's stages.
trace_all([T0, Next | Rest], Leader, Followers, Acc) ->
    trace_all([Next | Rest], Leader, Followers,
              case trace(T0, Next, Leader, Followers) of
                  none -> Acc;
                  W -> [W | Acc]
              end);
trace_all(_, _, _, Acc) ->
    lists:reverse(Acc).

trace(T0, Next, Leader, Followers) ->
    [_Submitted | Out] = ?LEADER_OUT,
    [{AnswerInStage, _}, {AnsweredStage, _}] = ?LEADER_BACK,
    case first(Leader, AnsweredStage, T0) of
        End when End < Next ->
            Early = [first(Leader, S, T0) || {S, _} <- Out],
            Sent = lists:last(Early),
            Answers = [A || F <- Followers, A <- [follower(F, Sent)], A =/= none,
                            lists:last(A) < End],
            case {lists:all(fun(T) -> T < End end, Early), lists:sort(fun by_answer/2, Answers)} of
                {true, [Fastest | _]} ->
                    case first(Leader, AnswerInStage, lists:last(Fastest)) of
                        AnswerIn when AnswerIn =< End ->
                            list_to_tuple([T0 | Early] ++ Fastest ++ [AnswerIn, End]);
                        _ ->
                            none
                    end;
                _ ->
                    none
            end;
        _ ->
            none
    end.

by_answer(A, B) -> lists:last(A) =< lists:last(B).

%% The follower's stages for the request sent at `Sent', or `none'.
follower(F, Sent) ->
    {Times, _} = lists:mapfoldl(fun(S, After) ->
                                        T = first(F, S, After),
                                        {T, T}
                                end, Sent, [S || {S, _} <- ?FOLLOWER]),
    case lists:member(infinity, Times) of
        true -> none;
        false -> Times
    end.

%% When the leader's flusher synced the write's entries (`infinity': never).
flusher_synced(Leader, W) ->
    first(Leader, ?FLUSHER_SYNCED, element(?AT_LEADER_WRITTEN, W)).

%% The first mark of `Stage' at or after `After' (binary search).
first(Member, Stage, After) ->
    Ts = maps:get(Stage, Member, {}),
    first(Ts, After, 1, tuple_size(Ts) + 1).

first(Ts, _After, Lo, Hi) when Lo >= Hi ->
    case Lo =< tuple_size(Ts) of
        true -> element(Lo, Ts);
        false -> infinity
    end;
first(Ts, After, Lo, Hi) ->
    Mid = (Lo + Hi) div 2,
    case element(Mid, Ts) < After of
        true -> first(Ts, After, Mid + 1, Hi);
        false -> first(Ts, After, Lo, Mid)
    end.

median([]) -> 0.0;
median(Sorted) -> lists:nth((length(Sorted) + 1) div 2, Sorted) / 1.
