%% EUnit tests of khepri_condition: evaluation of every condition record on
%% node props, compilation, keep_while parsing and match-spec validation.
%% Pure Erlang: no store, no NIF.
-module(khepri_condition_tests).

-include_lib("eunit/include/eunit.hrl").

-include("khepri.hrl").
-include("khepri_test.hrl").



%% Node props as reads return them (SPEC 1.4).
data_props(Data) ->
    #{data => Data, payload_version => 3, child_list_version => 2,
      child_list_length => 1}.

sproc_props() ->
    #{sproc => fun() -> ok end, payload_version => 1,
      child_list_version => 1, child_list_length => 0}.

empty_props() ->
    #{payload_version => 1, child_list_version => 5, child_list_length => 4}.

%% -------------------------------------------------------------------
%% Names and special components.
%% -------------------------------------------------------------------

name_equality_test() ->
    ?assertEqual(true, khepri_condition:is_met(foo, foo, #{})),
    ?assertEqual(true, khepri_condition:is_met(<<"b">>, <<"b">>, #{})),
    ?assertEqual({false, foo}, khepri_condition:is_met(foo, bar, #{})),
    ?assertEqual({false, <<"foo">>},
                 khepri_condition:is_met(<<"foo">>, foo, #{})).

path_argument_uses_last_component_test() ->
    ?assertEqual(true, khepri_condition:is_met(bar, [foo, bar], #{})),
    ?assertEqual({false, foo}, khepri_condition:is_met(foo, [foo, bar], #{})),
    %% The root is named ''.
    ?assertEqual(true, khepri_condition:is_met('', [], #{})),
    ?assertEqual(true,
                 khepri_condition:is_met(
                   #if_name_matches{regex = "^ba"}, [foo, bar], #{})).

this_node_is_always_true_test() ->
    ?assertEqual(true, khepri_condition:is_met(?THIS_KHEPRI_NODE, foo, #{})),
    ?assertEqual(true, khepri_condition:is_met(?THIS_KHEPRI_NODE, [], #{})),
    ?assertEqual({false, ?PARENT_KHEPRI_NODE},
                 khepri_condition:is_met(?PARENT_KHEPRI_NODE, foo, #{})).

%% -------------------------------------------------------------------
%% if_name_matches / if_path_matches.
%% -------------------------------------------------------------------

name_matches_test() ->
    Any = #if_name_matches{regex = any},
    ?assertEqual(true, khepri_condition:is_met(Any, foo, #{})),
    ?assertEqual(true, khepri_condition:is_met(Any, <<"x">>, #{})),
    C = #if_name_matches{regex = "^user_"},
    ?assertEqual(true, khepri_condition:is_met(C, user_1, #{})),
    ?assertEqual(true, khepri_condition:is_met(C, <<"user_2">>, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, admin, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, <<"admin">>, #{})),
    Bin = #if_name_matches{regex = <<"b$">>},
    ?assertEqual(true, khepri_condition:is_met(Bin, <<"ab">>, #{})),
    ?assertEqual({false, Bin}, khepri_condition:is_met(Bin, <<"ba">>, #{})).

path_matches_test() ->
    ?assertEqual(true,
                 khepri_condition:is_met(?KHEPRI_WILDCARD_STAR_STAR, a, #{})),
    C = #if_path_matches{regex = "o+"},
    ?assertEqual(true, khepri_condition:is_met(C, <<"foo">>, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, <<"bar">>, #{})).

name_matches_compiled_test() ->
    C = khepri_condition:compile(#if_name_matches{regex = "^a.c$"}),
    ?assertMatch(#if_name_matches{compiled = {re_pattern, _, _, _, _}}, C),
    ?assertEqual(true, khepri_condition:is_met(C, abc, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, abd, #{})),
    %% The form upstream stores in `compiled' is understood too.
    {ok, MP} = re:compile("^x"),
    Up = #if_name_matches{regex = "^x", compiled = {ok, MP}},
    ?assertEqual(true, khepri_condition:is_met(Up, xy, #{})).

invalid_regex_test() ->
    C = #if_name_matches{regex = "("},
    ?assertMatch({false, {C, {error, {_, _}}}},
                 khepri_condition:is_met(C, foo, #{})),
    Compiled = khepri_condition:compile(C),
    ?assertMatch(#if_name_matches{compiled = {error, {_, _}}}, Compiled),
    ?assertMatch({false, {Compiled, {error, {_, _}}}},
                 khepri_condition:is_met(Compiled, foo, #{})),
    %% Not even iodata: reported, never raised.
    Bad = #if_path_matches{regex = 42},
    ?assertEqual({false, {Bad, {error, badarg}}},
                 khepri_condition:is_met(Bad, foo, #{})),
    ?assertEqual(Bad#if_path_matches{compiled = {error, badarg}},
                 khepri_condition:compile(Bad)).

unicode_regex_test() ->
    %% A non-ASCII regex is compiled in Unicode mode: strings are code
    %% points, binary names UTF-8.
    C = khepri_condition:compile(#if_name_matches{regex = "^é.$"}),
    ?assertEqual(true, khepri_condition:is_met(C, <<"éa"/utf8>>, #{})),
    ?assertEqual(true, khepri_condition:is_met(C, 'éa', #{})),
    ?assertEqual(true,
                 khepri_condition:is_met(C, <<"é你"/utf8>>, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, <<"ea">>, #{})),
    %% A name which is not UTF-8 cannot match a Unicode regex.
    ?assertEqual({false, C}, khepri_condition:is_met(C, <<255, 97>>, #{})),
    BinRe = #if_name_matches{regex = <<"^你"/utf8>>},
    ?assertEqual(true, khepri_condition:is_met(BinRe, <<"你好"/utf8>>, #{})),
    ?assertEqual(true,
                 khepri_condition:is_met(BinRe, list_to_atom([20320]), #{})),
    %% ASCII regex (byte mode) on an atom beyond Latin-1: no crash.
    Ascii = #if_name_matches{regex = "^x"},
    ?assertEqual(true,
                 khepri_condition:is_met(Ascii, list_to_atom([$x, 20320]),
                                         #{})),
    ?assertEqual({false, Ascii},
                 khepri_condition:is_met(Ascii, list_to_atom([20320]), #{})).

%% -------------------------------------------------------------------
%% Payload conditions.
%% -------------------------------------------------------------------

has_payload_test() ->
    T = #if_has_payload{},
    F = #if_has_payload{has_payload = false},
    ?assertEqual(true, khepri_condition:is_met(T, a, data_props(1))),
    ?assertEqual(true, khepri_condition:is_met(T, a, sproc_props())),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, empty_props())),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, data_props(1))),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, sproc_props())),
    ?assertEqual(true, khepri_condition:is_met(F, a, empty_props())),
    %% Flags returned for `has_payload' in props_to_return.
    ?assertEqual(true, khepri_condition:is_met(T, a, #{has_data => true})),
    ?assertEqual(true, khepri_condition:is_met(T, a, #{is_sproc => true})),
    ?assertEqual(true,
                 khepri_condition:is_met(
                   T, a, #{raw_payload => {p_data, x}})),
    ?assertEqual(true,
                 khepri_condition:is_met(
                   F, a, #{raw_payload => '$__NO_PAYLOAD__'})).

has_data_test() ->
    T = #if_has_data{},
    F = #if_has_data{has_data = false},
    ?assertEqual(true, khepri_condition:is_met(T, a, data_props(undefined))),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, sproc_props())),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, empty_props())),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, data_props(x))),
    ?assertEqual(true, khepri_condition:is_met(F, a, sproc_props())),
    ?assertEqual(true, khepri_condition:is_met(F, a, empty_props())).

has_sproc_test() ->
    T = #if_has_sproc{},
    F = #if_has_sproc{has_sproc = false},
    ?assertEqual(true, khepri_condition:is_met(T, a, sproc_props())),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, data_props(x))),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, empty_props())),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, sproc_props())),
    ?assertEqual(true, khepri_condition:is_met(F, a, data_props(x))),
    ?assertEqual(true, khepri_condition:is_met(F, a, empty_props())).

data_matches_test() ->
    Any = #if_data_matches{},
    ?assertEqual(true, khepri_condition:is_met(Any, a, data_props(x))),
    ?assertEqual({false, Any}, khepri_condition:is_met(Any, a, empty_props())),
    ?assertEqual({false, Any}, khepri_condition:is_met(Any, a, sproc_props())),
    Age = #if_data_matches{pattern = {age, '$1'},
                           conditions = [{is_integer, '$1'},
                                         {'>=', '$1', 18}]},
    ?assertEqual(true, khepri_condition:is_met(Age, a, data_props({age, 18}))),
    ?assertEqual({false, Age},
                 khepri_condition:is_met(Age, a, data_props({age, 17}))),
    ?assertEqual({false, Age},
                 khepri_condition:is_met(Age, a, data_props({age, x}))),
    ?assertEqual({false, Age},
                 khepri_condition:is_met(Age, a, data_props(other))),
    %% Compiled and uncompiled conditions agree.
    Compiled = khepri_condition:compile(Age),
    ?assert(ets:is_compiled_ms(Compiled#if_data_matches.compiled)),
    ?assertEqual(true,
                 khepri_condition:is_met(Compiled, a, data_props({age, 40}))),
    ?assertEqual({false, Compiled},
                 khepri_condition:is_met(Compiled, a, data_props({age, 4}))),
    %% Non-tuple patterns and `raw_payload' props.
    Atom = #if_data_matches{pattern = hello},
    ?assertEqual(true,
                 khepri_condition:is_met(
                   Atom, a, #{raw_payload => {p_data, hello}})),
    %% A compiled match spec coming from another VM is not valid here: it
    %% is compiled again.
    Stale = Age#if_data_matches{compiled = make_ref()},
    ?assertEqual(true,
                 khepri_condition:is_met(Stale, a, data_props({age, 20}))).

data_matches_invalid_spec_test() ->
    Bad = #if_data_matches{pattern = '$1', conditions = [{no_such_guard}]},
    ?assertEqual({false, {Bad, {error, badarg}}},
                 khepri_condition:is_met(Bad, a, data_props(x))),
    Compiled = khepri_condition:compile(Bad),
    ?assertEqual(Bad#if_data_matches{compiled = {error, badarg}}, Compiled),
    ?assertEqual({false, {Compiled, {error, badarg}}},
                 khepri_condition:is_met(Compiled, a, data_props(x))).

node_exists_test() ->
    T = #if_node_exists{},
    F = #if_node_exists{exists = false},
    ?assertEqual(true, khepri_condition:is_met(T, a, #{})),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, data_props(x))).

%% -------------------------------------------------------------------
%% Versions and counts.
%% -------------------------------------------------------------------

payload_version_test() ->
    Props = data_props(x),   % payload_version 3
    Cases = [{3, true}, {2, false},
             {{eq, 3}, true}, {{eq, 4}, false},
             {{ne, 4}, true}, {{ne, 3}, false},
             {{lt, 4}, true}, {{lt, 3}, false},
             {{le, 3}, true}, {{le, 2}, false},
             {{gt, 2}, true}, {{gt, 3}, false},
             {{ge, 3}, true}, {{ge, 4}, false},
             {{bogus, 3}, false}],
    lists:foreach(
      fun({Version, Expected}) ->
              C = #if_payload_version{version = Version},
              Ret = case Expected of
                        true  -> true;
                        false -> {false, C}
                    end,
              ?assertEqual(Ret, khepri_condition:is_met(C, a, Props))
      end, Cases),
    %% Absent property: false.
    C = #if_payload_version{version = 1},
    ?assertEqual({false, C}, khepri_condition:is_met(C, a, #{})).

child_list_version_test() ->
    Props = empty_props(),   % child_list_version 5
    T = #if_child_list_version{version = {ge, 5}},
    F = #if_child_list_version{version = 4},
    ?assertEqual(true, khepri_condition:is_met(T, a, Props)),
    ?assertEqual(true,
                 khepri_condition:is_met(
                   #if_child_list_version{version = 5}, a, Props)),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, Props)),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, #{})).

child_list_length_test() ->
    Props = empty_props(),   % child_list_length 4
    T = #if_child_list_length{count = {gt, 0}},
    F = #if_child_list_length{count = 0},
    ?assertEqual(true, khepri_condition:is_met(T, a, Props)),
    ?assertEqual({false, F}, khepri_condition:is_met(F, a, Props)),
    ?assertEqual(true,
                 khepri_condition:is_met(
                   #if_child_list_length{count = 4}, a, Props)),
    %% Computed from `child_names' when the count is not there.
    ?assertEqual(true,
                 khepri_condition:is_met(
                   #if_child_list_length{count = 2}, a,
                   #{child_names => [x, y]})),
    ?assertEqual({false, T}, khepri_condition:is_met(T, a, #{})),
    %% A malformed property is as good as absent (as upstream): not met.
    Two = #if_child_list_length{count = 2},
    ?assertEqual({false, Two},
                 khepri_condition:is_met(Two, [a], #{child_names => [a | b]})),
    ?assertEqual({false, Two},
                 khepri_condition:is_met(Two, [a], #{child_names => x})).

%% An improper path argument is an invalid path, not a crash in lists:last/1.
is_met_improper_path_test() ->
    ?assertRaise(?EX(invalid_path, #{path => [foo | bar]}),
                 khepri_condition:is_met(a, [foo | bar], #{})),
    ?assertRaise(?EX(invalid_path, #{path => [a, b | c]}),
                 khepri_condition:is_met(#if_has_data{}, [a, b | c], #{})),
    ?assertEqual(true, khepri_condition:is_met(b, [a, b], #{})).

%% -------------------------------------------------------------------
%% Composition.
%% -------------------------------------------------------------------

if_not_test() ->
    C = #if_not{condition = <<"oak">>},
    ?assertEqual(true, khepri_condition:is_met(C, <<"birch">>, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, <<"oak">>, #{})),
    D = #if_not{condition = #if_has_data{}},
    ?assertEqual(true, khepri_condition:is_met(D, a, empty_props())),
    ?assertEqual({false, D}, khepri_condition:is_met(D, a, data_props(x))).

if_all_test() ->
    ?assertEqual(true, khepri_condition:is_met(#if_all{}, a, #{})),
    HasData = #if_has_data{},
    C = #if_all{conditions = [a, HasData]},
    ?assertEqual(true, khepri_condition:is_met(C, a, data_props(x))),
    %% The first failing inner condition is returned.
    ?assertEqual({false, HasData},
                 khepri_condition:is_met(C, a, empty_props())),
    ?assertEqual({false, a}, khepri_condition:is_met(C, b, data_props(x))),
    %% Bare names are tested first, wherever they are in the list.
    Late = #if_all{conditions = [HasData, a]},
    ?assertEqual({false, a}, khepri_condition:is_met(Late, b, empty_props())),
    ?assertEqual({false, HasData},
                 khepri_condition:is_met(Late, a, empty_props())),
    %% `?THIS_KHEPRI_NODE' inside holds.
    ?assertEqual(true,
                 khepri_condition:is_met(
                   #if_all{conditions = [?THIS_KHEPRI_NODE]}, z, #{})).

if_any_test() ->
    Empty = #if_any{},
    ?assertEqual({false, Empty}, khepri_condition:is_met(Empty, a, #{})),
    C = #if_any{conditions = [a, b]},
    ?assertEqual(true, khepri_condition:is_met(C, a, #{})),
    ?assertEqual(true, khepri_condition:is_met(C, b, #{})),
    ?assertEqual({false, C}, khepri_condition:is_met(C, c, #{})),
    D = #if_any{conditions = [#if_has_data{}, #if_has_sproc{}]},
    ?assertEqual(true, khepri_condition:is_met(D, a, sproc_props())),
    ?assertEqual({false, D}, khepri_condition:is_met(D, a, empty_props())).

nested_test() ->
    C = #if_all{conditions =
                    [#if_any{conditions = [a, b]},
                     #if_not{condition = #if_child_list_length{count = 0}}]},
    ?assertEqual(true, khepri_condition:is_met(C, b, empty_props())),
    Compiled = khepri_condition:compile(C),
    ?assertEqual(true, khepri_condition:is_met(Compiled, a, empty_props())),
    ?assertMatch({false, #if_any{}},
                 khepri_condition:is_met(Compiled, z, empty_props())).

not_a_condition_test() ->
    ?assertEqual({false, {weird}},
                 khepri_condition:is_met({weird}, a, #{})),
    Improper = #if_all{conditions = [a | b]},
    ?assertEqual({false, Improper},
                 khepri_condition:is_met(Improper, a, #{})).

%% -------------------------------------------------------------------
%% compile/1.
%% -------------------------------------------------------------------

compile_fills_caches_test() ->
    ?assertEqual(?KHEPRI_WILDCARD_STAR,
                 khepri_condition:compile(?KHEPRI_WILDCARD_STAR)),
    ?assertEqual(?KHEPRI_WILDCARD_STAR_STAR,
                 khepri_condition:compile(?KHEPRI_WILDCARD_STAR_STAR)),
    ?assertEqual(foo, khepri_condition:compile(foo)),
    ?assertEqual(#if_has_data{}, khepri_condition:compile(#if_has_data{})),
    ?assertMatch(#if_path_matches{compiled = {re_pattern, _, _, _, _}},
                 khepri_condition:compile(#if_path_matches{regex = "a"})),
    ?assertMatch(
       #if_not{condition = #if_name_matches{compiled = {re_pattern, _, _, _,
                                                        _}}},
       khepri_condition:compile(
         #if_not{condition = #if_name_matches{regex = "a"}})),
    ?assertMatch(
       #if_any{conditions = [x, #if_data_matches{compiled = Ref}]}
         when is_reference(Ref),
       khepri_condition:compile(
         #if_any{conditions = [x, #if_data_matches{pattern = '_'}]})),
    %% No reordering or collapsing.
    All = #if_all{conditions = [#if_has_data{}, a]},
    ?assertEqual(All, khepri_condition:compile(All)),
    One = #if_any{conditions = [a]},
    ?assertEqual(One, khepri_condition:compile(One)).

compile_is_idempotent_test() ->
    Conditions = [#if_name_matches{regex = "^a"},
                  #if_path_matches{regex = <<"b">>},
                  #if_data_matches{pattern = {'$1'},
                                   conditions = [{is_atom, '$1'}]},
                  #if_all{conditions = [#if_name_matches{regex = "x"},
                                        #if_not{condition =
                                                    #if_data_matches{}}]},
                  #if_name_matches{regex = "("},
                  #if_any{conditions = [a, b]},
                  ?KHEPRI_WILDCARD_STAR,
                  #if_all{conditions = improper_is_kept}],
    lists:foreach(
      fun(Condition) ->
              Once = khepri_condition:compile(Condition),
              ?assertEqual(Once, khepri_condition:compile(Once))
      end, Conditions).

%% -------------------------------------------------------------------
%% applies_to_grandchildren/1, is_valid/1.
%% -------------------------------------------------------------------

applies_to_grandchildren_test() ->
    ?assert(khepri_condition:applies_to_grandchildren(
              ?KHEPRI_WILDCARD_STAR_STAR)),
    ?assert(khepri_condition:applies_to_grandchildren(
              #if_path_matches{regex = "a"})),
    ?assert(khepri_condition:applies_to_grandchildren(
              #if_not{condition = #if_path_matches{}})),
    ?assert(khepri_condition:applies_to_grandchildren(
              #if_all{conditions = [a, #if_path_matches{}]})),
    ?assert(khepri_condition:applies_to_grandchildren(
              #if_any{conditions = [#if_any{conditions =
                                                [#if_path_matches{}]}]})),
    ?assertNot(khepri_condition:applies_to_grandchildren(
                 ?KHEPRI_WILDCARD_STAR)),
    ?assertNot(khepri_condition:applies_to_grandchildren(foo)),
    ?assertNot(khepri_condition:applies_to_grandchildren(
                 #if_all{conditions = [a, #if_has_data{}]})),
    ?assertNot(khepri_condition:applies_to_grandchildren(#if_any{})).

is_valid_test() ->
    ?assert(khepri_condition:is_valid(foo)),
    ?assert(khepri_condition:is_valid(#if_node_exists{exists = false})),
    ?assert(khepri_condition:is_valid(
              #if_all{conditions = [a, #if_has_data{}]})),
    ?assertEqual({false, #if_has_data{has_data = maybe}},
                 khepri_condition:is_valid(
                   #if_any{conditions = [a, #if_has_data{has_data = maybe}]})),
    ?assertEqual({false, 42}, khepri_condition:is_valid(42)),
    ?assertEqual({false, #if_data_matches{conditions = x}},
                 khepri_condition:is_valid(#if_data_matches{conditions = x})).

%% is_valid/1 accepts exactly what the engine can take.
is_valid_regex_test() ->
    lists:foreach(
      fun(Regex) ->
              ?assertEqual({Regex, true},
                           {Regex, khepri_condition:is_valid(
                                     #if_name_matches{regex = Regex})}),
              ?assertEqual({Regex, true},
                           {Regex, khepri_condition:is_valid(
                                     #if_path_matches{regex = Regex})})
      end,
      [any, "", "^a.*$", [16#4E2D, 16#1F600, 16#10FFFF], <<>>, <<"^a">>,
       <<"^\x{4E2D}"/utf8>>, <<16#4E2D/utf8>>]),
    lists:foreach(
      fun(Regex) ->
              C1 = #if_name_matches{regex = Regex},
              C2 = #if_path_matches{regex = Regex},
              ?assertEqual({false, C1}, khepri_condition:is_valid(C1)),
              ?assertEqual({false, C2}, khepri_condition:is_valid(C2))
      end,
      [42, foo, undefined, [$a | c], ["ab"], [<<"a">>], [-1], [16#D800],
       [16#DFFF], [16#110000], [1.0], <<255>>, <<16#ED, 16#A0, 16#80>>,
       <<16#C0, 16#80>>, {re_pattern, 0, 0, 0, <<>>}]).

is_valid_comparison_test() ->
    Max = (1 bsl 63) - 1,
    Min = -(1 bsl 63),
    Fields = [fun(V) -> #if_payload_version{version = V} end,
              fun(V) -> #if_child_list_version{version = V} end,
              fun(V) -> #if_child_list_length{count = V} end],
    lists:foreach(
      fun(Make) ->
              lists:foreach(
                fun(V) ->
                        ?assertEqual({V, true},
                                     {V, khepri_condition:is_valid(Make(V))})
                end,
                [0, 1, Max, {eq, Min}, {ne, Max}, {lt, -1}, {le, 0},
                 {gt, 5}, {ge, Min}]),
              lists:foreach(
                fun(V) ->
                        C = Make(V),
                        ?assertEqual({V, {false, C}},
                                     {V, khepri_condition:is_valid(C)})
                end,
                [-1, Max + 1, Min, 1.0, foo, {eq, Max + 1}, {lt, Min - 1},
                 {foo, 1}, {eq, 1.0}, {eq, foo}, {eq, 1, 2}, [eq, 1]])
      end, Fields).

is_valid_boolean_fields_test() ->
    lists:foreach(
      fun(C) -> ?assertEqual({false, C}, khepri_condition:is_valid(C)) end,
      [#if_has_payload{has_payload = 1}, #if_has_data{has_data = yes},
       #if_has_sproc{has_sproc = undefined},
       #if_node_exists{exists = "true"}]),
    lists:foreach(
      fun(C) -> ?assert(khepri_condition:is_valid(C)) end,
      [#if_has_payload{has_payload = false}, #if_has_data{has_data = false},
       #if_has_sproc{has_sproc = false}, #if_node_exists{exists = false}]).

%% `$/' is a path component, never a condition; `$.' (always true) and `$^'
%% (refused later as `condition_targets_parent_node') are accepted.
is_valid_special_components_test() ->
    Root = ?KHEPRI_ROOT_NODE,
    ?assertEqual({false, Root}, khepri_condition:is_valid(Root)),
    ?assertEqual({false, Root},
                 khepri_condition:is_valid(#if_all{conditions = [a, Root]})),
    ?assertEqual({false, Root},
                 khepri_condition:is_valid(#if_any{conditions = [Root]})),
    ?assertEqual({false, Root},
                 khepri_condition:is_valid(#if_not{condition = Root})),
    ?assertEqual({false, $a},
                 khepri_condition:is_valid(#if_not{condition = $a})),
    lists:foreach(
      fun(Special) ->
              ?assert(khepri_condition:is_valid(Special)),
              ?assert(khepri_condition:is_valid(
                        #if_all{conditions = [Special]})),
              ?assert(khepri_condition:is_valid(
                        #if_any{conditions = [Special]})),
              ?assert(khepri_condition:is_valid(
                        #if_not{condition = Special}))
      end, [?THIS_KHEPRI_NODE, ?PARENT_KHEPRI_NODE]).

is_valid_improper_conditions_test() ->
    lists:foreach(
      fun(C) -> ?assertEqual({false, C}, khepri_condition:is_valid(C)) end,
      [#if_all{conditions = [a | b]}, #if_any{conditions = [a | b]},
       %% The list itself is the fault, even with an invalid element.
       #if_all{conditions = [#if_has_data{has_data = x} | b]},
       #if_any{conditions = x}]),
    Inner = #if_any{conditions = [a | b]},
    ?assertEqual({false, Inner},
                 khepri_condition:is_valid(
                   #if_not{condition = #if_all{conditions = [a, Inner]}})).

is_valid_nesting_depth_test() ->
    %% At most 100 nested `#if_not{}'/`#if_all{}'/`#if_any{}'.
    ?assert(khepri_condition:is_valid(nest(100, a))),
    ?assert(khepri_condition:is_valid(nest(99, #if_all{conditions = [a]}))),
    ?assertEqual({false, nest(1, a)},
                 khepri_condition:is_valid(nest(101, a))),
    TooDeep = #if_any{conditions = [a]},
    ?assertEqual({false, TooDeep},
                 khepri_condition:is_valid(nest(100, TooDeep))),
    ?assertEqual({false, TooDeep},
                 khepri_condition:is_valid(
                   #if_all{conditions = [b, nest(99, TooDeep)]})).

%% `N' levels alternating `#if_not{}', `#if_all{}' and `#if_any{}' around
%% `Inner'.
nest(0, Inner) ->
    Inner;
nest(N, Inner) ->
    case N rem 3 of
        0 -> #if_not{condition = nest(N - 1, Inner)};
        1 -> #if_all{conditions = [nest(N - 1, Inner)]};
        2 -> #if_any{conditions = [a, nest(N - 1, Inner)]}
    end.

%% A `keep_while' value the engine cannot take is refused when the call is
%% made.
ensure_native_keep_while_engine_limits_test() ->
    lists:foreach(
      fun(Condition) ->
              KW = #{[a] => Condition},
              ?assertRaise(
                 ?EX(invalid_option, #{option => keep_while, value => KW}),
                 khepri_condition:ensure_native_keep_while(KW))
      end,
      [?KHEPRI_ROOT_NODE, #if_all{conditions = [?KHEPRI_ROOT_NODE]},
       #if_name_matches{regex = 42}, #if_payload_version{version = -1},
       nest(101, a)]).

%% -------------------------------------------------------------------
%% ensure_native_keep_while/1.
%% -------------------------------------------------------------------

ensure_native_keep_while_test() ->
    Exists = #if_node_exists{exists = true},
    ?assertEqual(#{}, khepri_condition:ensure_native_keep_while(#{})),
    ?assertEqual(
       #{[foo, <<"bar">>] => Exists,
         [?THIS_KHEPRI_NODE] => #if_child_list_length{count = {gt, 0}},
         [?PARENT_KHEPRI_NODE, baz] => #if_has_data{}},
       khepri_condition:ensure_native_keep_while(
         #{"/:foo/bar" => Exists,
           [?THIS_KHEPRI_NODE] => #if_child_list_length{count = {gt, 0}},
           <<"../:baz">> => #if_has_data{}})),
    %% Native keys are kept as they are, a leading root marker dropped.
    ?assertEqual(#{[a] => Exists},
                 khepri_condition:ensure_native_keep_while(
                   #{[?KHEPRI_ROOT_NODE, a] => Exists})).

ensure_native_keep_while_duplicates_test() ->
    %% "/:a" and [a] are the same node: both conditions are kept, in the
    %% keys' term order (a string sorts before a list of atoms).
    ?assertEqual(
       #{[a] => #if_all{conditions = [#if_node_exists{exists = true},
                                      #if_has_data{}]}},
       khepri_condition:ensure_native_keep_while(
         #{"/:a" => #if_node_exists{exists = true},
           [a] => #if_has_data{}})),
    ?assertEqual(#{[a] => #if_has_data{}},
                 khepri_condition:ensure_native_keep_while(
                   #{"/:a" => #if_has_data{}, [a] => #if_has_data{}})).

ensure_native_keep_while_errors_test() ->
    ?assertRaise(?EX(invalid_path, #{path => {bad}}),
                 khepri_condition:ensure_native_keep_while(
                   #{{bad} => #if_node_exists{}})),
    ?assertRaise(?EX(invalid_path, #{path => [a, {bad}],
                                     component => {bad}}),
                 khepri_condition:ensure_native_keep_while(
                   #{[a, {bad}] => #if_node_exists{}})),
    KW = #{[a] => #if_has_data{has_data = maybe}},
    ?assertRaise(?EX(invalid_option, #{option => keep_while, value => KW}),
                 khepri_condition:ensure_native_keep_while(KW)),
    ?assertRaise(?EX(invalid_option, #{option => keep_while,
                                       value => not_a_map}),
                 khepri_condition:ensure_native_keep_while(not_a_map)),
    Self = #if_data_matches{conditions = [{'=:=', '$_', {self}}]},
    ?assertRaise(?EX(unsupported_condition,
                     #{condition => Self,
                       reason => {non_deterministic_guard, self}}),
                 khepri_condition:ensure_native_keep_while(#{[a] => Self})).

%% -------------------------------------------------------------------
%% validate_data_matches/1.
%% -------------------------------------------------------------------

validate_accepts_deterministic_guards_test() ->
    Good = #if_data_matches{
              pattern = {user, '$1', '$2'},
              conditions = [{is_binary, '$1'},
                            {'andalso', {'>', {byte_size, '$1'}, 0},
                                        {'=:=', {element, 1, '$2'}, ok}},
                            {'=/=', '$_', {const, {self}}},
                            {is_map_key, a, {const, #{a => 1}}},
                            {'==', {{'$1', [x]}}, {const, {<<"a">>, [x]}}}]},
    ?assertEqual(ok, khepri_condition:validate_data_matches(Good)),
    ?assertEqual(ok, khepri_condition:validate_data_matches(foo)),
    ?assertEqual(ok, khepri_condition:validate_data_matches(#if_has_data{})),
    ?assertEqual(ok, khepri_condition:validate_data_matches(
                       [a, #if_all{conditions = [Good]}, b])).

validate_refuses_non_deterministic_guards_test() ->
    lists:foreach(
      fun({Guard, Function}) ->
              C = #if_data_matches{pattern = '$1', conditions = [Guard]},
              ?assertRaise(
                 ?EX(unsupported_condition,
                     #{condition => C,
                       reason => {non_deterministic_guard, Function}}),
                 khepri_condition:validate_data_matches(C))
      end,
      [{{'=:=', '$1', {self}}, self},
       {{'==', {node}, nonode@nohost}, node},
       {{'=:=', {get_tcw}, 0}, get_tcw},
       %% Nested in boolean operators and constructed tuples and lists.
       {{'andalso', true, {'orelse', false, {'=:=', '$1', {self}}}}, self},
       {{'=:=', '$1', {{a, {node}}}}, node},
       {{'=:=', '$1', [a, {self}]}, self}]).

validate_refuses_invalid_match_spec_test() ->
    Bad = #if_data_matches{pattern = '$1', conditions = [{no_such_guard}]},
    ?assertRaise(?EX(unsupported_condition,
                     #{condition => Bad, reason => invalid_match_spec}),
                 khepri_condition:validate_data_matches(Bad)),
    NotList = #if_data_matches{conditions = oops},
    ?assertRaise(?EX(unsupported_condition,
                     #{condition => NotList, reason => invalid_match_spec}),
                 khepri_condition:validate_data_matches(NotList)).

validate_walks_compositions_test() ->
    Bad = #if_data_matches{conditions = [{'=:=', {self}, '$_'}]},
    lists:foreach(
      fun(Wrapped) ->
              ?assertRaise(?EX(unsupported_condition,
                               #{condition => Bad,
                                 reason => {non_deterministic_guard, self}}),
                           khepri_condition:validate_data_matches(Wrapped))
      end,
      [#if_not{condition = Bad},
       #if_all{conditions = [a, Bad]},
       #if_any{conditions = [#if_not{condition = Bad}]},
       [foo, #if_all{conditions = [Bad]}]]).
