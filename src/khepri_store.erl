%% @doc The process of one store on this node, registered under the store id.
%%
%% It owns the engine (the NIF resource) and publishes it
%% in `persistent_term' so that API calls reach the engine without a message
%% to this process. Stopping it stops the local member (data are kept).
-module(khepri_store).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/3, engine/1, async_tag/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(KEY(StoreId), {khepri_rs, StoreId}).
-define(STOP_TIMEOUT, 60000).
%% The answer to a call whose receiver is not running: the engine takes the
%% member as unreachable (`network.rs').
-define(NO_RECEIVER, <<"no store process">>).
%% A call that was never sent (`forward.rs' NOT_SENT): safe to send again.
-define(NOT_SENT, <<"not connected">>).

%% @private
start_link(StoreId, Dir, Config) ->
    gen_server:start_link({local, StoreId}, ?MODULE, {StoreId, Dir, Config}, []).

%% @doc `{ok, Engine}' for a store running on this node, else `error'.
-spec engine(atom()) -> {ok, reference()} | error.
engine(StoreId) ->
    case persistent_term:get(?KEY(StoreId), undefined) of
        undefined -> error;
        Engine -> {ok, Engine}
    end.

%% @private
init({StoreId, Dir, #{timeout := Timeout} = Config}) ->
    process_flag(trap_exit, true),
    ok = stop_stale_engine(StoreId),
    Ref = make_ref(),
    NodeName = atom_to_binary(node(), utf8),
    EngineOpts = maps:with([snapshot_interval, snapshot_time_interval,
                            unreleased_command_footprint_threshold,
                            log_to_snapshot_ratio, segment_bytes, join], Config),
    ok = khepri_nif:open(unicode:characters_to_binary(Dir), NodeName,
                         EngineOpts#{open_timeout => open_timeout(Timeout)},
                         Ref),
    receive
        {Ref, {ok, Engine, Warnings}} ->
            [?LOG_WARNING("khepri store ~s: ~ts", [StoreId, W])
             || W <- Warnings],
            State = #{store_id => StoreId, engine => Engine, dir => Dir,
                      config => maps:without([join], Config), connecting => #{},
                      watched => #{},
                      projections => khepri_projector:new(), effects_seq => 0,
                      leading => false,
                      runner => khepri_trigger_runner:start_link(StoreId)},
            %% Projections are filled and replayed before the store is
            %% announced: a read after `start' sees them.
            Ready = catch_up(khepri_nif:effects_sent(Engine), State),
            persistent_term:put(?KEY(StoreId), Engine),
            {ok, Ready};
        {Ref, {error, Reason}} ->
            ?LOG_ERROR("khepri store ~s cannot start in ~ts: ~ts",
                       [StoreId, Dir, Reason]),
            {stop, {cannot_open_store, Reason}}
    after Timeout ->
        {stop, timeout}
    end.

catch_up(Sent, #{effects_seq := Done} = State) when Done >= Sent ->
    State;
catch_up(Sent, #{effects_seq := Done} = State) ->
    Next = Done + 1,
    receive
        {'$khepri_effects', Next} -> catch_up(Sent, carry_out(Next, State))
    after ?STOP_TIMEOUT ->
        ?LOG_ERROR("khepri store ~s: effects ~b not received", [maps:get(store_id, State), Next]),
        State
    end.

%% A store process killed without running terminate/2 leaves its engine
%% published: stop that one first, it holds the data directory's lock.
stop_stale_engine(StoreId) ->
    case persistent_term:get(?KEY(StoreId), undefined) of
        undefined ->
            ok;
        Engine ->
            persistent_term:erase(?KEY(StoreId)),
            stop_engine(Engine)
    end.

stop_engine(Engine) ->
    Ref = make_ref(),
    ok = khepri_nif:stop(Engine, Ref),
    receive {Ref, ok} -> ok after ?STOP_TIMEOUT -> ok end.

open_timeout(infinity) -> 24 * 3600 * 1000;
open_timeout(Ms) -> Ms.

%% @private
handle_call(info, _From, #{dir := Dir, config := Config} = State) ->
    {reply, {ok, Dir, Config}, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

%% @private
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @doc The tag under which the engine answers an async write to this
%% process, for `Caller' with `Correlation' (`undefined': no notification).
-spec async_tag(pid(), term()) -> tuple().
async_tag(Caller, Correlation) ->
    {'$khepri_async', Caller, Correlation}.

%% @private
handle_info({'$khepri_effects', Seq}, State) ->
    {noreply, carry_out(Seq, State)};
handle_info({'$khepri_leadership', Leading}, State) ->
    {noreply, leadership(Leading, State)};
handle_info({'EXIT', Runner, Reason}, #{runner := Runner, store_id := StoreId} = State) ->
    ?LOG_ERROR("khepri store ~s: trigger runner exited: ~0p", [StoreId, Reason]),
    New = khepri_trigger_runner:start_link(StoreId),
    {noreply, leadership(maps:get(leading, State), State#{runner := New, leading := false})};
handle_info({{'$khepri_async', _, _}, _} = Reply,
            #{store_id := StoreId, engine := Engine} = State) ->
    notify_async(StoreId, Engine, [Reply | drain_async()]),
    {noreply, State};
handle_info({'$khepri_rpc', Target, Id, Kind, Body},
            #{store_id := StoreId, engine := Engine} = State) ->
    Node = binary_to_atom(Target, utf8),
    case lists:member(Node, erlang:nodes()) of
        true ->
            Dest = {StoreId, Node},
            case erlang:send(Dest, {'$khepri_rpc_in', node(), Id, Kind, Body}, [nosuspend]) of
                nosuspend ->
                    %% Dropped, the link being busy: nothing would send a
                    %% forwarded write again, so the engine hears now.
                    ok = khepri_nif:rpc_reply(Engine, Id, {error, ?NOT_SENT}),
                    {noreply, State};
                _ ->
                    {noreply, watch(Kind, Dest, Id, State)}
            end;
        false ->
            %% Not sent: a send would start the connection and could still
            %% arrive after this call was answered as failed, and a write
            %% forwarded that way would then be applied twice when retried.
            %% The engine's answer names this case (`forward.rs').
            ok = khepri_nif:rpc_reply(Engine, Id, {error, ?NOT_SENT}),
            {noreply, connect(Node, State)}
    end;
handle_info({'$khepri_rpc_reply', Id, _} = Msg, State) ->
    relay(Msg, State),
    {noreply, unwatch(Id, State)};
handle_info({'DOWN', MRef, process, _, _}, #{watched := Watched, engine := Engine} = State)
  when is_map_key(MRef, Watched) ->
    %% the call was dropped, or its answer will never come
    ok = khepri_nif:rpc_reply(Engine, maps:get(MRef, Watched), {error, ?NO_RECEIVER}),
    {noreply, State#{watched := maps:remove(MRef, Watched)}};
handle_info({'$khepri_connected', Node}, #{connecting := Connecting} = State) ->
    {noreply, State#{connecting := maps:remove(Node, Connecting)}};
handle_info(Msg, State) when element(1, Msg) =:= '$khepri_rpc_in';
                             element(1, Msg) =:= '$khepri_change_member' ->
    relay(Msg, State),
    {noreply, State};
handle_info({{Kind, _, _}, _} = Msg, State) when Kind =:= '$khepri_rpc_out';
                                                Kind =:= '$khepri_chg' ->
    relay(Msg, State),
    {noreply, State};
handle_info(_Info, State) ->
    {noreply, State}.

%% The engine's effects for one applied batch (`khepri_nif` effects.rs):
%% projections are updated here, then the batch's callers are answered,
%% so they read their writes through ETS (SPEC 4.7); trigger firings go to
%% the runner when this member leads.
carry_out(Seq, #{engine := Engine, store_id := StoreId,
                 projections := Projections0, effects_seq := Last} = State) ->
    Seq =:= Last + 1 orelse
        ?LOG_ERROR("khepri store ~s: effects ~b after ~b", [StoreId, Seq, Last]),
    {Projections, Fired} = take_effects(Engine, Seq, {Projections0, []}),
    ok = effects_done(Engine, Seq),
    case State of
        #{leading := true, runner := Runner} ->
            khepri_trigger_runner:run(Runner, lists:reverse(Fired));
        _ ->
            ok
    end,
    State#{projections := Projections, effects_seq := Seq}.

%% The items come in chunks, each made in this process's heap by the NIF.
take_effects(Engine, Seq, Acc0) ->
    {Items, More} = khepri_nif:take_effects(Engine, Seq),
    Acc = lists:foldl(fun carry_out_item/2, Acc0, Items),
    case More of
        true -> take_effects(Engine, Seq, Acc);
        false -> Acc
    end.

%% The writers are answered a few hundred per call.
effects_done(Engine, Seq) ->
    case khepri_nif:effects_done(Engine, Seq) of
        more -> effects_done(Engine, Seq);
        ok -> ok
    end.

carry_out_item({project, Name, Changes}, {Projections, Fired}) ->
    ok = khepri_projector:project(Name, Changes, Projections),
    {Projections, Fired};
carry_out_item({fire, _, _, _, _, _} = Firing, {Projections, Fired}) ->
    {Projections, [Firing | Fired]};
carry_out_item({register, Name, Projection, Pattern, Version}, {Projections, Fired}) ->
    {khepri_projector:register(Name, Projection, Pattern, Version, Projections), Fired};
carry_out_item({unregister, Names}, {Projections, Fired}) ->
    {khepri_projector:unregister(Names, Projections), Fired}.

%% Taking the lead, the runner gets every firing still owed: those the
%% previous leader did not acknowledge.
leadership(true, #{leading := false, engine := Engine, runner := Runner} = State) ->
    khepri_trigger_runner:run(Runner, khepri_nif:pending_triggers(Engine)),
    State#{leading := true};
leadership(false, #{leading := true, runner := Runner} = State) ->
    khepri_trigger_runner:forget(Runner),
    State#{leading := false};
leadership(_Leading, State) ->
    State.

%% Calls between members travel engine -> store process -> store process
%% on the target node -> its engine, and their answers back the same way
%% (DESIGN.md). `nosuspend': a busy or cut-off link drops the message (Raft
%% sends again) rather than block the store process.
relay({'$khepri_rpc_in', From, Id, Kind, Body}, #{engine := Engine}) ->
    ok = khepri_nif:rpc_in(Engine, Kind, Body, {'$khepri_rpc_out', From, Id});
relay({{'$khepri_rpc_out', From, Id}, Answer}, #{store_id := StoreId}) ->
    send({StoreId, From}, {'$khepri_rpc_reply', Id, Answer});
relay({'$khepri_rpc_reply', Id, Answer}, #{engine := Engine}) ->
    ok = khepri_nif:rpc_reply(Engine, Id, Answer);
relay({'$khepri_change_member', Pid, Ref, Change, NodeName, TimeoutMs},
      #{engine := Engine}) ->
    ok = khepri_nif:change_member(Engine, {'$khepri_chg', Pid, Ref}, Change,
                                  NodeName, TimeoutMs);
relay({{'$khepri_chg', Pid, Ref}, Reply}, _State) ->
    Pid ! {Ref, Reply}.

%% A message to a store process that is not running is dropped without a
%% word: on a node that is up before its store is (a restart), the caller
%% would wait out its call's time-to-live, for a snapshot chunk 10 s, and
%% the member could not catch up meanwhile. So a snapshot chunk's receiver is
%% monitored until it answers: if it is not there, or goes, the call fails
%% at once and the leader sends the snapshot again (after a short backoff).
%% Other calls are either short-lived (appends, votes) or must not be
%% answered as failed while they may still be received (forwarded writes).
watch(snapshot_chunk, Dest, Id, #{watched := Watched} = State) ->
    State#{watched := Watched#{erlang:monitor(process, Dest) => Id}};
watch(_Kind, _Dest, _Id, State) ->
    State.

unwatch(_Id, #{watched := Watched} = State) when map_size(Watched) =:= 0 ->
    State;
unwatch(Id, #{watched := Watched} = State) ->
    case [MRef || {MRef, I} <- maps:to_list(Watched), I =:= Id] of
        [MRef] ->
            true = erlang:demonitor(MRef, [flush]),
            State#{watched := maps:remove(MRef, Watched)};
        [] ->
            State
    end.

%% Connects to a member's node on the side, one attempt at a time per node:
%% that is how members find each other again after a partition heals.
connect(Node, #{connecting := Connecting} = State) ->
    case Connecting of
        #{Node := _} ->
            State;
        _ ->
            Self = self(),
            _ = spawn(fun() ->
                              _ = net_kernel:connect_node(Node),
                              Self ! {'$khepri_connected', Node}
                      end),
            State#{connecting := Connecting#{Node => true}}
    end.

send(Dest, Msg) ->
    _ = erlang:send(Dest, Msg, [nosuspend]),
    ok.

%% Replies already queued are sent along: one notification per caller per
%% batch (SPEC 4.8), in apply order.
drain_async() ->
    receive
        {{'$khepri_async', _, _}, _} = Reply -> [Reply | drain_async()]
    after 0 ->
        []
    end.

%% Applied notifications name the leader that committed them (SPEC 4.8).
notify_async(StoreId, Engine, Replies) ->
    From = case khepri_nif:leader(Engine) of
               Leader when is_binary(Leader) -> {StoreId, binary_to_atom(Leader, utf8)};
               undefined -> {StoreId, node()}
           end,
    Applied = [{Caller, {Corr, khepri_command:to_map(R)}}
               || {{_, Caller, Corr}, R} <- Replies,
                  Corr =/= undefined, R =/= {error, not_leader}],
    lists:foreach(
      fun(Caller) ->
              Mine = [CR || {C, CR} <- Applied, C =:= Caller],
              Caller ! {ra_event, From, {applied, Mine}}
      end, lists:usort([C || {C, _} <- Applied])),
    [Caller ! {ra_event, From, {rejected, {not_leader, undefined, Corr}}}
     || {{_, Caller, Corr}, {error, not_leader}} <- Replies, Corr =/= undefined],
    ok.

%% @private
terminate(_Reason, #{store_id := StoreId, engine := Engine, runner := Runner}) ->
    persistent_term:erase(?KEY(StoreId)),
    unlink(Runner),
    exit(Runner, shutdown),
    stop_engine(Engine).
