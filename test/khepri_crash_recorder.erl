%% @doc The crash harness's record of writes, kept on the harness node (never
%% on a node that gets killed). It spawns the writers on the members and
%% monitors them, so that once a writer is seen down every outcome it
%% reported has been received (signals from one process to another arrive in
%% order). It keeps every acknowledged key, the outcomes of the current
%% phase (for the harness's waits), totals, and the violations it sees
%% itself: a write acknowledged while the cluster had no quorum.
-module(khepri_crash_recorder).

-behaviour(gen_server).

-export([start_link/0, stop/1, start_writers/5, stop_writers/2, count/2,
         new_phase/1, no_quorum/2, quorum_back/1, acked/1, summary/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(CALL_TIMEOUT, 60000).

%% @doc Starts a recorder linked to the caller.
start_link() ->
    gen_server:start_link(?MODULE, [], []).

%% @doc Stops the recorder; its writers, if any, are told to stop.
stop(Recorder) ->
    gen_server:stop(Recorder).

%% @doc Spawns one writer per tag on `Node', putting into `Store' with
%% `Timeout' per put (see `khepri_crash_writer').
start_writers(Recorder, Node, Store, Tags, Timeout) ->
    gen_server:call(Recorder, {start_writers, Node, Store, Tags, Timeout}, ?CALL_TIMEOUT).

%% @doc Tells every writer to stop and returns once all are down (those of
%% a killed node are down already), or `{error, timeout}' after `TimeoutMs'.
stop_writers(Recorder, TimeoutMs) ->
    try gen_server:call(Recorder, stop_writers, TimeoutMs)
    catch exit:{timeout, _} -> {error, timeout}
    end.

%% @doc How many writes of the current phase had `Outcome' (`ok',
%% `timeout'...), were invoked after `SinceNs' (OS clock, nanoseconds)
%% and ran on one of `Nodes'.
count(Recorder, #{outcome := _, since := _, nodes := _} = Filter) ->
    gen_server:call(Recorder, {count, Filter}, ?CALL_TIMEOUT).

%% @doc Starts a new phase: forgets the outcomes `count/2' looks at.
new_phase(Recorder) ->
    gen_server:call(Recorder, new_phase, ?CALL_TIMEOUT).

%% @doc From now on, and until `quorum_back/1', a write invoked after
%% `SinceNs' and acknowledged is a violation: a majority of the members has
%% been down since then.
no_quorum(Recorder, SinceNs) ->
    gen_server:call(Recorder, {no_quorum, SinceNs}, ?CALL_TIMEOUT).

%% @doc The members are being restarted: acknowledgements are possible again.
quorum_back(Recorder) ->
    gen_server:call(Recorder, quorum_back, ?CALL_TIMEOUT).

%% @doc Every acknowledged write so far, `#{Key => Value}'.
acked(Recorder) ->
    gen_server:call(Recorder, acked, ?CALL_TIMEOUT).

%% @doc Totals of the whole run: `acked', `timeout', `noproc', `violations'
%% (writes acknowledged without a quorum) and `errors' (unexpected results).
summary(Recorder) ->
    gen_server:call(Recorder, summary, ?CALL_TIMEOUT).

%% -------------------------------------------------------------------
%% gen_server
%% -------------------------------------------------------------------

%% @private
init([]) ->
    {ok, #{acked => #{},
           %% monitor => {Pid, Node}
           writers => #{},
           %% {Node, InvokeNs, Outcome} of the current phase
           phase => [],
           totals => #{ok => 0, timeout => 0, noproc => 0},
           no_quorum => undefined,
           violations => [],
           errors => [],
           %% callers of stop_writers waiting for the writers to be down
           stopping => []}}.

%% @private
handle_call({start_writers, Node, Store, Tags, Timeout}, _From, #{writers := Ws} = State) ->
    New = maps:from_list(
            [begin
                 {Pid, MRef} = spawn_monitor(
                                 Node, khepri_crash_writer, run,
                                 [#{store => Store, recorder => self(), tag => Tag,
                                    timeout => Timeout}]),
                 {MRef, {Pid, Node}}
             end || Tag <- Tags]),
    {reply, ok, State#{writers := maps:merge(Ws, New)}};
handle_call(stop_writers, From, #{writers := Ws, stopping := Stopping} = State) ->
    [Pid ! stop || {Pid, _} <- maps:values(Ws)],
    maybe_stopped(State#{stopping := [From | Stopping]}, noreply);
handle_call({count, #{outcome := O, since := Since, nodes := Nodes}}, _From,
            #{phase := Phase} = State) ->
    N = length([x || {Node, Invoke, Outcome} <- Phase,
                     Outcome =:= O, Invoke > Since, lists:member(Node, Nodes)]),
    {reply, N, State};
handle_call(new_phase, _From, State) ->
    {reply, ok, State#{phase := []}};
handle_call({no_quorum, Since}, _From, State) ->
    {reply, ok, State#{no_quorum := Since}};
handle_call(quorum_back, _From, State) ->
    {reply, ok, State#{no_quorum := undefined}};
handle_call(acked, _From, #{acked := Acked} = State) ->
    {reply, Acked, State};
handle_call(summary, _From, #{acked := Acked, totals := Totals,
                              violations := Vs, errors := Es} = State) ->
    {reply, Totals#{acked => map_size(Acked), violations => lists:reverse(Vs),
                    errors => lists:reverse(Es)}, State}.

%% @private
handle_cast(_, State) ->
    {noreply, State}.

%% @private
handle_info({write, Pid, Key, Invoke, Outcome}, State) ->
    {noreply, record(node(Pid), Key, Invoke, Outcome, State)};
handle_info({'DOWN', MRef, process, _, _}, #{writers := Ws} = State) ->
    maybe_stopped(State#{writers := maps:remove(MRef, Ws)}, noreply).

%% @private
terminate(_Reason, #{writers := Ws}) ->
    [Pid ! stop || {Pid, _} <- maps:values(Ws)],
    ok.

record(Node, Key, Invoke, Outcome, #{phase := Phase, totals := Totals} = State) ->
    State1 = State#{phase := [{Node, Invoke, Outcome} | Phase]},
    case Outcome of
        ok ->
            #{acked := Acked, no_quorum := NoQuorum, violations := Vs} = State1,
            Vs1 = case NoQuorum of
                      Since when is_integer(Since), Invoke > Since ->
                          [{acked_without_quorum, Node, Key} | Vs];
                      _ ->
                          Vs
                  end,
            State1#{acked := Acked#{Key => khepri_crash_writer:value(Key)},
                    totals := bump(ok, Totals), violations := Vs1};
        {error, Reason} ->
            #{errors := Es} = State1,
            State1#{errors := [{Node, Key, Reason} | Es]};
        _ ->
            State1#{totals := bump(Outcome, Totals)}
    end.

bump(K, Totals) ->
    maps:update_with(K, fun(N) -> N + 1 end, Totals).

maybe_stopped(#{writers := Ws, stopping := Stopping} = State, Return)
  when map_size(Ws) =:= 0 ->
    [gen_server:reply(From, ok) || From <- Stopping],
    {Return, State#{stopping := []}};
maybe_stopped(State, Return) ->
    {Return, State}.
