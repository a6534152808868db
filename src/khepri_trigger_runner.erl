%% @doc Runs trigger firings on the leader's node (SPEC 4.6): one process
%% per store, linked to the store process, running stored procedures one at
%% a time in firing order, then acknowledging them with a replicated
%% command. A firing not acknowledged when its leader goes is run again by
%% the next leader: at-least-once.
%%
%% Sprocs run here rather than in the store process itself so that a sproc
%% may write to the store: the store process must stay free to carry out
%% the effects that answer those writes.
-module(khepri_trigger_runner).

-include("khepri.hrl").

-export([start_link/1, run/2, forget/1]).
-export([init/1]).

-define(ACK_TIMEOUT_MS, 5000).
-define(ACK_RETRY_MS, 1000).

%% @doc Starts the runner of store `StoreId'.
-spec start_link(atom()) -> pid().
start_link(StoreId) ->
    proc_lib:spawn_link(?MODULE, init, [StoreId]).

%% @doc Runs these firings (`{fire, Seq, TriggerId, Path, Change,
%% SprocPath}'), skipping those this runner already ran since this member
%% took the lead.
-spec run(pid(), [tuple()]) -> ok.
run(_Runner, []) ->
    ok;
run(Runner, Firings) ->
    Runner ! {run, Firings},
    ok.

%% @doc This member no longer leads: what it ran and did not acknowledge is
%% the next leader's to run.
-spec forget(pid()) -> ok.
forget(Runner) ->
    Runner ! forget,
    ok.

%% @private
init(StoreId) ->
    %% `high': the last sequence number run while this member leads.
    %% Firings arrive in sequence order, except those of the owed list
    %% fetched on taking the lead, which may come again with later effects.
    loop(#{store_id => StoreId, high => -1, unacked => []}).

loop(State) ->
    receive
        {run, Firings} ->
            loop(ack(lists:foldl(fun fire/2, State, Firings)));
        forget ->
            loop(State#{high := -1, unacked := []});
        retry_ack ->
            loop(ack(State))
    end.

fire({fire, Seq, _, _, _, _}, #{high := High} = State) when Seq =< High ->
    State;
fire({fire, Seq, _, _, _, _} = Firing, #{unacked := Unacked} = State) ->
    call_sproc(Firing, State),
    State#{high := Seq, unacked := [Seq | Unacked]}.

call_sproc({fire, _Seq, TriggerId, Path, Change, SprocPath}, #{store_id := StoreId}) ->
    Trigger = #khepri_trigger{type = tree,
                              store_id = StoreId,
                              trigger_id = TriggerId,
                              event = #{path => Path, change => Change},
                              action = #{}},
    case khepri_ops:adv_get(StoreId, SprocPath, #{props_to_return => [payload]}) of
        {ok, #{SprocPath := #{sproc := Sproc}}} ->
            try
                _ = Sproc(Trigger)
            catch
                Class:Reason ->
                    khepri_rate_log:warning(
                      {trigger, TriggerId},
                      "khepri trigger ~0p: its sproc ~0p failed on ~0p ~0p: ~0p:~0p",
                      [TriggerId, SprocPath, Change, Path, Class, Reason])
            end;
        _ ->
            %% SPEC 4.6: skipped; said once in a while, as it may be a
            %% mistake.
            khepri_rate_log:warning(
              {trigger, TriggerId},
              "khepri trigger ~0p: no sproc at ~0p, firing on ~0p ~0p skipped",
              [TriggerId, SprocPath, Change, Path])
    end.

ack(#{unacked := []} = State) ->
    State;
ack(#{store_id := StoreId, unacked := Unacked} = State) ->
    Command = {ack_triggers, lists:reverse(Unacked)},
    case khepri_command:run(StoreId, Command, #{timeout => ?ACK_TIMEOUT_MS}) of
        {ok, _} ->
            State#{unacked := []};
        {error, _} ->
            %% Still owed in the replicated state; retried, unless this
            %% member stops leading first.
            erlang:send_after(?ACK_RETRY_MS, self(), retry_ack),
            State
    end.
