%% EUnit tests of khepri_evf (event filters). Pure Erlang: no store, no NIF.
-module(khepri_evf_tests).

-include_lib("eunit/include/eunit.hrl").

-include("khepri.hrl").
-include("khepri_test.hrl").
-include("khepri_evf.hrl").



tree_native_pattern_test() ->
    ?assertEqual(#evf_tree{path = [stock, wood], props = #{}},
                 khepri_evf:tree([stock, wood])),
    Props = #{on_actions => [create, delete], priority => 10},
    ?assertEqual(#evf_tree{path = [stock, ?KHEPRI_WILDCARD_STAR],
                           props = Props},
                 khepri_evf:tree([stock, ?KHEPRI_WILDCARD_STAR], Props)).

tree_unix_pattern_test() ->
    ?assertEqual(#evf_tree{path = [stock, wood, <<"oak">>], props = #{}},
                 khepri_evf:tree("/:stock/:wood/oak")),
    ?assertEqual(#evf_tree{path = [stock, ?KHEPRI_WILDCARD_STAR_STAR],
                           props = #{priority => -1}},
                 khepri_evf:tree(<<"/:stock/**">>, #{priority => -1})),
    ?assertEqual(#evf_tree{path = [], props = #{}}, khepri_evf:tree("/")),
    %% `on_actions => []' is accepted (it means all actions).
    ?assertEqual(#evf_tree{path = [a], props = #{on_actions => []}},
                 khepri_evf:tree([a], #{on_actions => []})).

tree_invalid_pattern_test() ->
    ?assertRaise(?EX(invalid_path, #{path => 42}), khepri_evf:tree(42)),
    ?assertRaise(?EX(invalid_path, #{path => [a, {x}], component => {x}}),
                 khepri_evf:tree([a, {x}])),
    Self = #if_data_matches{conditions = [{'=:=', '$_', {self}}]},
    ?assertRaise(?EX(unsupported_condition,
                     #{condition => Self,
                       reason => {non_deterministic_guard, self}}),
                 khepri_evf:tree([a, Self])).

tree_invalid_props_test() ->
    ?assertRaise(?EX(invalid_option, #{option => on_actions,
                                       value => [create, rename]}),
                 khepri_evf:tree([a], #{on_actions => [create, rename]})),
    ?assertRaise(?EX(invalid_option, #{option => on_actions,
                                       value => create}),
                 khepri_evf:tree([a], #{on_actions => create})),
    ?assertRaise(?EX(invalid_option, #{option => priority, value => high}),
                 khepri_evf:tree([a], #{priority => high})),
    ?assertRaise(?EX(invalid_option, #{option => colour, value => red}),
                 khepri_evf:tree([a], #{colour => red})),
    ?assertRaise(?EX(invalid_option, #{option => props, value => [x]}),
                 khepri_evf:tree([a], [x])),
    %% An improper list is refused like any other bad value.
    ?assertRaise(?EX(invalid_option, #{option => on_actions,
                                       value => [create | x]}),
                 khepri_evf:tree([a], #{on_actions => [create | x]})),
    ?assertRaise(?EX(invalid_option, #{option => on_actions,
                                       value => [create | update]}),
                 khepri_evf:tree([a], #{on_actions => [create | update]})).

%% Conditions the engine cannot take are refused when the filter is built.
tree_invalid_condition_test() ->
    Bad = #if_all{conditions = [a, ?KHEPRI_ROOT_NODE]},
    ?assertRaise(?EX(invalid_path, #{path => [a, Bad],
                                     component => ?KHEPRI_ROOT_NODE}),
                 khepri_evf:tree([a, Bad])),
    BadRegex = #if_name_matches{regex = [$a | c]},
    ?assertRaise(?EX(invalid_path, #{path => [BadRegex],
                                     component => BadRegex}),
                 khepri_evf:tree([BadRegex])).

wrap_test() ->
    Evf = khepri_evf:tree([a], #{priority => 3}),
    ?assertEqual(Evf, khepri_evf:wrap(Evf)),
    ?assertEqual(khepri_evf:tree([a, b]), khepri_evf:wrap([a, b])),
    ?assertEqual(khepri_evf:tree([a, b]), khepri_evf:wrap("/:a/:b")),
    ?assertEqual(khepri_evf:tree([a, <<"b">>]), khepri_evf:wrap(<<"/:a/b">>)),
    ?assertRaise(?EX(invalid_path, #{path => 42}), khepri_evf:wrap(42)).

priority_test() ->
    Evf = khepri_evf:tree([a]),
    ?assertEqual(0, khepri_evf:get_priority(Evf)),
    Evf1 = khepri_evf:set_priority(Evf, 7),
    ?assertEqual(7, khepri_evf:get_priority(Evf1)),
    ?assertEqual(#evf_tree{path = [a], props = #{priority => 7}}, Evf1),
    Evf2 = khepri_evf:set_priority(
             khepri_evf:tree([a], #{on_actions => [update]}), -5),
    ?assertEqual(#{on_actions => [update], priority => -5},
                 Evf2#evf_tree.props),
    ?assertEqual(-5, khepri_evf:get_priority(Evf2)),
    ?assertRaise(?EX(invalid_option, #{option => priority, value => 1.5}),
                 khepri_evf:set_priority(Evf, 1.5)).
