%% @doc The worked examples of SPEC 4.12, as written there (E1-E7, E9, E10,
%% E12; transactions and async writes have their own suites).
-module(khepri_examples_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-import(khepri_test_helpers, [with_store/2]).

e1_versions_no_op_writes_adv_shapes_test() ->
    with_store(ex1, fun(S, _) ->
        {ok, #{[fruit] := #{payload_version := 1} = New}} = khepri_adv:create(S, [fruit], apple),
        false = maps:is_key(data, New),
        {ok, #{[fruit] := #{data := apple, payload_version := 1}}} = khepri_adv:put(S, [fruit], apple),
        {ok, #{[fruit] := #{data := apple, payload_version := 2}}} = khepri_adv:put(S, [fruit], pear),
        {ok, pear} = khepri:get(S, "/:fruit"),
        {ok, #{[fruit] := #{data := pear, payload_version := 2, delete_reason := explicit}}} =
            khepri_adv:delete(S, [fruit]),
        {ok, #{}} = khepri_adv:delete(S, [fruit])
    end).

e2_conditional_writes_test() ->
    with_store(ex2, fun(S, _) ->
        ok = khepri:put(S, [fruit], pear),
        {error, ?khepri_error(mismatching_node, #{node_path := [fruit], node_is_target := true,
            condition := #if_node_exists{exists = false}, node_props := #{data := pear}})} =
            khepri:create(S, [fruit], kiwi),
        {error, ?khepri_error(node_not_found, #{node_path := [veg], node_is_target := true})} =
            khepri:update(S, [veg], leek)
    end).

e3_patterns_test() ->
    with_store(ex3, fun(S, _) ->
        ok = khepri:put(S, [zoo, cats, <<"tom">>], 3),
        ok = khepri:put(S, [zoo, dogs, <<"rex">>], 5),
        {ok, #{[zoo, cats, <<"tom">>] := 3, [zoo, dogs, <<"rex">>] := 5}} = khepri:get_many(S, "/:zoo/*/*"),
        {ok, 2} = khepri:count(S, "/:zoo/*/*"),
        {ok, 4} = khepri:count(S, [zoo, ?KHEPRI_WILDCARD_STAR_STAR]),
        {ok, undefined} = khepri:get(S, [zoo, cats]),
        ?assertError(?khepri_exception(possibly_matching_many_nodes_denied, _), khepri:get(S, "/:zoo/*")),
        {ok, #{}} = khepri:get_many(S, "/:nothing/*"),
        {ok, none} = khepri:get_or(S, [zoo, birds], none)
    end).

e2_compare_and_swap_test() ->
    with_store(ex2b, fun(S, _) ->
        ok = khepri:put(S, [fruit], pear),
        {error, ?khepri_error(mismatching_node, #{condition := #if_data_matches{}})} =
            khepri:compare_and_swap(S, [fruit], apple, plum),
        ok = khepri:compare_and_swap(S, [fruit], pear, plum),
        {ok, plum} = khepri:get(S, [fruit]),
        %% match patterns with variables and guards
        ok = khepri:put(S, [acct], #{balance => 10}),
        ok = khepri:compare_and_swap(S, [acct], #{balance => '$1'}, #{balance => 5}),
        Cond = #if_data_matches{pattern = #{balance => '$1'}, conditions = [{'<', '$1', 3}]},
        {error, ?khepri_error(mismatching_node, _)} =
            khepri:put(S, khepri_path:combine_with_conditions([acct], [Cond]), #{balance => 0}),
        ?assertError(?khepri_exception(unsupported_condition, _),
                     khepri:compare_and_swap(S, [acct], '$1', x, #{}) =:= ok andalso
                     khepri:put(S, khepri_path:combine_with_conditions(
                                     [acct], [#if_data_matches{pattern = '$1',
                                                               conditions = [{'==', '$1', {self}}]}]), y))
    end).

e4_failing_condition_on_an_existing_node_in_reads_test() ->
    with_store(ex4, fun(S, _) ->
        ok = khepri:put(S, [fruit], pear),
        P = khepri_path:combine_with_conditions([fruit], [#if_data_matches{pattern = apple}]),
        false = khepri:exists(S, P),
        {error, ?khepri_error(node_not_found, #{node_path := [fruit], node_is_target := true})} = khepri:get(S, P),
        {ok, dflt} = khepri:get_or(S, P, dflt),
        {ok, #{}} = khepri_adv:get(S, P)
    end).

e5_auto_created_ancestors_are_reclaimed_test() ->
    with_store(ex5, fun(S, _) ->
        ok = khepri:put(S, [a, b, c], 1),
        {ok, #{[a, b, c] := #{delete_reason := explicit}, [a, b] := #{delete_reason := keep_while},
               [a] := #{delete_reason := keep_while}}} = khepri_adv:delete(S, [a, b, c]),
        false = khepri:exists(S, [a]),
        ok = khepri:put(S, [dir], khepri_payload:none()),
        ok = khepri:put(S, [dir, f], 1), ok = khepri:delete(S, [dir, f]),
        true = khepri:exists(S, [dir])
    end).

e6_keep_while_test() ->
    with_store(ex6, fun(S, _) ->
        ok = khepri:put(S, [q, <<"q1">>], q1),
        ok = khepri:put(S, [x, <<"x1">>, bindings, <<"q1">>], b1,
                        #{keep_while => #{[q, <<"q1">>] => #if_node_exists{exists = true}}}),
        {ok, Del} = khepri_adv:delete(S, [q, <<"q1">>]),
        [[q], [q, <<"q1">>], [x], [x, <<"x1">>], [x, <<"x1">>, bindings],
         [x, <<"x1">>, bindings, <<"q1">>]] = lists:sort(maps:keys(Del)),
        #{[q, <<"q1">>] := #{delete_reason := explicit},
          [x, <<"x1">>, bindings, <<"q1">>] := #{delete_reason := keep_while}} = Del,
        {error, ?khepri_error(keep_while_conditions_not_met, #{node_path := [x, <<"x2">>],
            keep_while_reason := {pattern_matches_no_nodes, [q, <<"nope">>]}})} =
            khepri:put(S, [x, <<"x2">>], v, #{keep_while => #{[q, <<"nope">>] => #if_node_exists{exists = true}}}),
        ok = khepri:put(S, [d2], khepri_payload:none(),
                        #{keep_while => #{[?THIS_KHEPRI_NODE] => #if_child_list_length{count = {gt, 0}}}}),
        true = khepri:exists(S, [d2]),
        ok = khepri:put(S, [d2, c], 1), ok = khepri:delete(S, [d2, c]),
        false = khepri:exists(S, [d2])
    end).

e7_optimistic_concurrency_test() ->
    with_store(ex7, fun(S, _) ->
        ok = khepri:put(S, [fruit], pear),
        {ok, #{[fruit] := #{payload_version := V}}} = khepri_adv:get(S, [fruit]),
        Guarded = khepri_path:combine_with_conditions([fruit], [#if_payload_version{version = V}]),
        ok = khepri:put(S, Guarded, fig),
        {error, ?khepri_error(mismatching_node, _)} = khepri:put(S, Guarded, date)
    end).

e12_export_import_test() ->
    with_store(ex12, fun(S, Dir) ->
        Backup = filename:join(Dir, "cfg.backup"),
        ok = khepri:put(S, [cfg, <<"a">>], 1),
        ok = khepri:export(S, "/:cfg/**", khepri_export_erlang, Backup),
        {ok, [{put, [cfg, <<"a">>], {p_data, 1}, #{}}]} = file:consult(Backup),
        with_store(ex12b, fun(S2, _) ->
            ok = khepri:import(S2, khepri_export_erlang, Backup),
            {ok, 1} = khepri:get(S2, [cfg, <<"a">>])
        end)
    end).

import_of_a_horus_sproc_is_refused_test() ->
    with_store(ex12c, fun(S, Dir) ->
        Backup = filename:join(Dir, "horus.backup"),
        ok = file:write_file(Backup, <<"{put,[p],{p_sproc,{horus_fun,x},rw},#{}}.\n">>),
        ?assertEqual({error, ?khepri_error(unsupported_sproc_format, #{path => [p]})},
                     khepri:import(S, khepri_export_erlang, Backup))
    end).

e9_trigger_test() ->
    with_store(ex9, fun(S, _) ->
        Me = self(),
        ok = khepri:put(S, [sprocs, notify],
                        fun(#khepri_trigger{trigger_id = Id, event = #{path := Pa, change := C}}) ->
                                Me ! {trig, Id, Pa, C}, ok
                        end),
        ok = khepri:register_trigger(S, on_user_del,
               khepri_evf:tree([users, ?KHEPRI_WILDCARD_STAR], #{on_actions => [delete]}), [sprocs, notify]),
        ok = khepri:put(S, [users, <<"bob">>], #{email => <<"b@x">>}),
        ok = khepri:delete(S, [users, <<"bob">>]),
        receive {trig, on_user_del, [users, <<"bob">>], delete} -> ok after 5000 -> error(no_trigger) end
    end).

e10_projections_read_your_writes_test() ->
    with_store(ex10, fun(S, _) ->
        ok = khepri:register_projection(S, "/:users/*",
               khepri_projection:new(user_emails, fun([users, Name], #{email := E}) -> {Name, E} end,
                                     #{type => set, read_concurrency => true})),
        ok = khepri:put(S, [users, <<"ann">>], #{email => <<"ann@x">>}),
        [{<<"ann">>, <<"ann@x">>}] = ets:lookup(user_emails, <<"ann">>),   % no wait needed
        ok = khepri:delete(S, [users, <<"ann">>]),
        [] = ets:lookup(user_emails, <<"ann">>),
        {error, ?khepri_error(projection_already_exists, #{name := user_emails})} =
            khepri:register_projection(S, "/:users/*", khepri_projection:new(user_emails, copy)),
        ok = khepri:register_projection(S, "/:queues/*", khepri_projection:new(queues_p, copy, #{keypos => 2})),
        ok = khepri:put(S, [queues, <<"q1">>], {amqqueue, <<"q1">>, durable}),
        [{amqqueue, <<"q1">>, durable}] = ets:lookup(queues_p, <<"q1">>),
        true = khepri:has_projection(S, queues_p),
        {ok, #{queues_p := _}} = khepri_adv:unregister_projections(S, [queues_p]),
        undefined = ets:info(queues_p)
    end).
