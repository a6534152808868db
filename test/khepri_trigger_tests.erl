%% @doc Triggers on one member (SPEC 4.6): a stored procedure runs once per
%% event (creates, auto-created parents, updates, deletes of subtrees,
%% keep_while cascades), in priority then id then path order, with the
%% `#khepri_trigger{}' argument; failures and missing sprocs are logged and
%% do not stop the store or the other triggers.
-module(khepri_trigger_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-export([reporter/2]).

-import(khepri_test_helpers, [with_store/2]).

-define(WAIT_MS, 10000).

events_fire_once_in_order_test() ->
    with_store(trig_events, fun(S, _) ->
        Ref = make_ref(),
        ok = khepri:put(S, [sprocs, report], reporter(self(), Ref)),
        ok = khepri:register_trigger(S, t_all, [w, ?KHEPRI_WILDCARD_STAR_STAR],
                                     [sprocs, report]),
        %% auto-created parent, then the node (`[w]' itself is not matched)
        ok = khepri:put(S, [w, a, b], 1),
        ?assertEqual([{t_all, [w, a], create}, {t_all, [w, a, b], create}], fired(S, Ref)),
        %% an update; a no-op write is no event
        ok = khepri:put(S, [w, a, b], 2),
        ok = khepri:put(S, [w, a, b], 2),
        ?assertEqual([{t_all, [w, a, b], update}], fired(S, Ref)),
        %% a keep_while cascade and a subtree delete: one event per node
        ok = khepri:put(S, [w, kw], x, #{keep_while => #{[w, a, b] => #if_node_exists{}}}),
        ?assertEqual([{t_all, [w, kw], create}], fired(S, Ref)),
        ok = khepri:delete(S, [w, a]),
        ?assertEqual([{t_all, [w, a], delete}, {t_all, [w, a, b], delete},
                      {t_all, [w, kw], delete}],
                     lists:sort(fired(S, Ref))),
        %% each firing was acknowledged: nothing owed
        {ok, Engine} = khepri_store:engine(S),
        ok = khepri_test_helpers:wait_until(
               fun() -> khepri_nif:pending_triggers(Engine) =:= [] end, ?WAIT_MS)
    end).

filters_priorities_and_replacement_test() ->
    with_store(trig_filters, fun(S, _) ->
        Ref = make_ref(),
        ok = khepri:put(S, [sprocs, report], reporter(self(), Ref)),
        Pattern = [f, ?KHEPRI_WILDCARD_STAR],
        ok = khepri:register_trigger(S, b_low, khepri_evf:tree(Pattern, #{priority => -1}),
                                     [sprocs, report]),
        ok = khepri:register_trigger(S, a_high, khepri_evf:tree(Pattern, #{priority => 5}),
                                     [sprocs, report]),
        ok = khepri:register_trigger(S, c_high, khepri_evf:tree(Pattern, #{priority => 5}),
                                     [sprocs, report]),
        ok = khepri:register_trigger(S, d_deletes,
                                     khepri_evf:tree(Pattern, #{on_actions => [delete]}),
                                     [sprocs, report]),
        ok = khepri:put_many(S, [f], undefined),
        {ok, ok} = khepri:transaction(S, fun() ->
                                           ok = khepri_tx:put([f, y], 1),
                                           ok = khepri_tx:put([f, x], 1)
                                   end),
        ?assertEqual([{a_high, [f, x], create}, {a_high, [f, y], create},
                      {c_high, [f, x], create}, {c_high, [f, y], create},
                      {b_low, [f, x], create}, {b_low, [f, y], create}],
                     fired(S, Ref)),
        ok = khepri:delete(S, [f, x]),
        ?assertEqual([{a_high, [f, x], delete}, {c_high, [f, x], delete},
                      {d_deletes, [f, x], delete}, {b_low, [f, x], delete}],
                     fired(S, Ref)),
        %% re-registering an id replaces the trigger
        ok = khepri:register_trigger(S, a_high, khepri_evf:tree([other]), [sprocs, report]),
        ok = khepri:put(S, [f, y], 2),
        ?assertEqual([{c_high, [f, y], update}, {b_low, [f, y], update}], fired(S, Ref))
    end).

%% A crashing sproc, a sproc whose module is missing, a path without a
%% sproc: logged; the store and the other triggers keep working.
failures_are_logged_test() ->
    with_store(trig_failures, fun(S, _) ->
        Ref = make_ref(),
        ok = khepri:put(S, [sprocs, report], reporter(self(), Ref)),
        ok = khepri:put(S, [sprocs, crash], fun(_) -> error(crash) end),
        ok = khepri:put(S, [sprocs, gone], fun no_such_module:run/1),
        ok = khepri:put(S, [sprocs, data], 42),
        Pattern = [g, ?KHEPRI_WILDCARD_STAR],
        [ok = khepri:register_trigger(S, Id, Pattern, Sproc)
         || {Id, Sproc} <- [{a_crash, [sprocs, crash]}, {b_gone, [sprocs, gone]},
                            {c_data, [sprocs, data]}, {d_missing, [sprocs, missing]},
                            {e_report, [sprocs, report]}]],
        ok = khepri:put(S, [g, one], 1),
        ok = khepri:put(S, [g, two], 2),
        ?assertEqual([{e_report, [g, one], create}, {e_report, [g, two], create}],
                     fired(S, Ref)),
        ?assertEqual({ok, 2}, khepri:get(S, [g, two])),
        %% bad input is refused before the log
        Index = khepri_test_helpers:engine_log_index(S),
        ?assertError(?khepri_exception(invalid_trigger_id, _),
                     khepri:register_trigger(S, "id", Pattern, [sprocs, report], #{})),
        ?assertError(?khepri_exception(invalid_event_filter, _),
                     khepri:register_trigger(S, t, {evf_tree, Pattern, #{on_actions => [x]}},
                                             [sprocs, report])),
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:register_trigger(S, t, Pattern, [sprocs, 1])),
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:register_trigger(S, t, Pattern,
                                             [sprocs, #if_all{conditions = [report, #if_has_data{}]}])),
        ?assertEqual(Index, khepri_test_helpers:engine_log_index(S))
    end).

%% Owed firings are replicated state: a firing whose run never finished
%% (so was never acknowledged) runs again after a restart, when the member
%% leads again.
owed_firings_survive_a_restart_test_() ->
    {timeout, 60, fun() ->
        Dir = khepri_test_helpers:tmp_dir("trig_restart"),
        S = trig_restart,
        {ok, S} = khepri:start(Dir, S),
        Ref = make_ref(),
        try
            Self = self(),
            Report = reporter(Self, Ref),
            First = {?MODULE, Ref},
            %% The first run never ends, so it is never acknowledged.
            Sproc = fun(Trigger) ->
                            case persistent_term:get(First, true) of
                                true ->
                                    persistent_term:put(First, false),
                                    Self ! {Ref, blocked},
                                    receive never -> ok end;
                                false ->
                                    Report(Trigger)
                            end
                    end,
            ok = khepri:put(S, [sprocs, report], Sproc),
            ok = khepri:register_trigger(S, t, [r, ?KHEPRI_WILDCARD_STAR], [sprocs, report]),
            ok = khepri:put(S, [r, k], 1),
            receive {Ref, blocked} -> ok after ?WAIT_MS -> error(not_run) end,
            {ok, Engine} = khepri_store:engine(S),
            ?assertMatch([{fire, _, t, [r, k], create, [sprocs, report]}],
                         khepri_nif:pending_triggers(Engine)),
            ok = khepri:stop(S),
            {ok, S} = khepri:start(Dir, S),
            ?assertEqual([{t, [r, k], create}], fired(S, Ref))
        after
            persistent_term:erase({?MODULE, Ref}),
            _ = khepri:stop(S),
            _ = file:del_dir_r(Dir)
        end
    end}.

%% -------------------------------------------------------------------
%% Helpers
%% -------------------------------------------------------------------

%% @doc A sproc sending `{Ref, TriggerId, Path, Change}' to `Pid'.
reporter(Pid, Ref) ->
    fun(#khepri_trigger{type = tree, trigger_id = Id,
                        event = #{path := Path, change := Change}, action = #{}}) ->
            Pid ! {Ref, Id, Path, Change}
    end.

%% The firings reported since the last call: the sentinel written last
%% fires last (one runner, in order), so everything before it has come.
fired(S, Ref) ->
    Sentinel = make_ref(),
    ok = khepri:register_trigger(S, zzz_sentinel, khepri_evf:tree([sentinel]),
                                 [sprocs, sentinel_report]),
    Self = self(),
    ok = khepri:put(S, [sprocs, sentinel_report], fun(_) -> Self ! Sentinel end),
    ok = khepri:put(S, [sentinel], make_ref()),
    receive Sentinel -> ok after ?WAIT_MS -> error(no_sentinel) end,
    collect(Ref).

collect(Ref) ->
    receive
        {Ref, Id, Path, Change} -> [{Id, Path, Change} | collect(Ref)]
    after 0 ->
        []
    end.
