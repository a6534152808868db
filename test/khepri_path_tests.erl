%% EUnit tests of `khepri_path' (SPEC sections 2.9 and 3) and of the guard
%% macros and records of `include/khepri.hrl'.

-module(khepri_path_tests).

-include_lib("eunit/include/eunit.hrl").

-include("khepri.hrl").

-define(INVALID(Props), {khepri_ex, invalid_path, Props}).

%% -------------------------------------------------------------------
%% SPEC 3: from_string/1 table, one test per row.
%% -------------------------------------------------------------------

parse_absolute_atoms_and_binary_test() ->
    ?assertEqual([stock, wood, <<"oak">>],
                 khepri_path:from_string("/:stock/:wood/oak")).

parse_binary_input_test() ->
    ?assertEqual([x, <<"y">>], khepri_path:from_string(<<"/:x/y">>)).

parse_root_test() ->
    ?assertEqual([], khepri_path:from_string("/")),
    ?assertEqual([], khepri_path:from_string("")),
    ?assertEqual([], khepri_path:from_string(<<>>)),
    ?assertEqual([], khepri_path:from_string(<<"/">>)).

parse_relative_binaries_test() ->
    ?assertEqual([?THIS_KHEPRI_NODE, <<"stock">>, <<"wood">>],
                 khepri_path:from_string("stock/wood")).

parse_relative_atom_test() ->
    ?assertEqual([?THIS_KHEPRI_NODE, stock, <<"wood">>],
                 khepri_path:from_string(":stock/wood")).

parse_dot_and_dotdot_test() ->
    ?assertEqual([?THIS_KHEPRI_NODE], khepri_path:from_string(".")),
    ?assertEqual([?PARENT_KHEPRI_NODE], khepri_path:from_string("..")).

parse_parent_then_name_test() ->
    ?assertEqual([?PARENT_KHEPRI_NODE, <<"foo">>],
                 khepri_path:from_string("../foo")).

parse_is_not_normalised_test() ->
    ?assertEqual([foo, ?PARENT_KHEPRI_NODE, <<"bar">>],
                 khepri_path:from_string("/:foo/../bar")).

parse_absolute_dot_test() ->
    ?assertEqual([?THIS_KHEPRI_NODE, <<"a">>],
                 khepri_path:from_string("/./a")).

parse_trailing_slash_test() ->
    ?assertEqual([<<"foo">>], khepri_path:from_string("/foo/")),
    ?assertEqual([?THIS_KHEPRI_NODE, <<"a">>], khepri_path:from_string("a/")).

parse_star_test() ->
    ?assertEqual([#if_name_matches{regex = any}],
                 khepri_path:from_string("*")).

parse_star_star_test() ->
    ?assertEqual([#if_path_matches{regex = any}],
                 khepri_path:from_string("**")).

parse_star_then_name_test() ->
    ?assertEqual([?KHEPRI_WILDCARD_STAR, <<"foo">>],
                 khepri_path:from_string("/*/foo")).

parse_glob_test() ->
    ?assertEqual([#if_name_matches{regex = "^a.*b.*c$"}],
                 khepri_path:from_string("/a*b*c")),
    %% Other characters are not escaped.
    ?assertEqual([#if_name_matches{regex = "^a.b.*$"}],
                 khepri_path:from_string("/a.b*")).

parse_percent_decoded_star_is_glob_test() ->
    ?assertEqual([#if_name_matches{regex = "^.*$"}],
                 khepri_path:from_string("/%2A")).

parse_no_glob_in_atoms_test() ->
    ?assertEqual(['foo*'], khepri_path:from_string("/:foo*")).

parse_empty_binary_components_test() ->
    ?assertEqual([<<>>], khepri_path:from_string("//")),
    ?assertEqual([<<"a">>, <<>>, <<"b">>], khepri_path:from_string("/a//b")).

parse_percent_decoding_test() ->
    ?assertEqual([<<":foo">>, 'b/c'],
                 khepri_path:from_string("/%3Afoo/:b%2Fc")).

parse_spaces_test() ->
    ?assertEqual([<<"foo bar">>], khepri_path:from_string("/foo bar")),
    ?assertEqual(['a b'], khepri_path:from_string(<<"/:a b">>)).

parse_caret_as_name_test() ->
    ?assertEqual([foo, <<"^">>], khepri_path:from_string("/:foo/^")).

parse_caret_alone_test() ->
    ?assertEqual([?PARENT_KHEPRI_NODE], khepri_path:from_string("^")).

parse_leading_caret_slash_test() ->
    ?assertEqual([?PARENT_KHEPRI_NODE, <<"foo">>],
                 khepri_path:from_string("^/foo")).

parse_unicode_test() ->
    ?assertEqual([<<"é"/utf8>>], khepri_path:from_string(<<"/é"/utf8>>)),
    ?assertEqual([<<"é"/utf8>>], khepri_path:from_string("/é")),
    ?assertEqual(['é'], khepri_path:from_string("/:é")).

parse_native_unchanged_test() ->
    ?assertEqual([foo, <<"bar">>], khepri_path:from_string([foo, <<"bar">>])),
    ?assertEqual([?THIS_KHEPRI_NODE, foo],
                 khepri_path:from_string([?THIS_KHEPRI_NODE, foo])),
    ?assertEqual([foo],
                 khepri_path:from_string([?KHEPRI_ROOT_NODE, foo])).

parse_not_a_path_test() ->
    ?assertError(?INVALID(#{path := foo}), khepri_path:from_string(foo)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => foo}},
       catch_error(fun() -> khepri_path:from_string(foo) end)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => 42}},
       catch_error(fun() -> khepri_path:from_string(42) end)).

%% -------------------------------------------------------------------
%% SPEC 3: to_string/1 table, one test per row.
%% -------------------------------------------------------------------

format_root_test() ->
    ?assertEqual("/", khepri_path:to_string([])).

format_atom_and_binary_test() ->
    ?assertEqual("/:foo/bar", khepri_path:to_string([foo, <<"bar">>])).

format_space_encoded_test() ->
    ?assertEqual("/a%20b", khepri_path:to_string([<<"a b">>])).

format_this_node_test() ->
    ?assertEqual(":foo", khepri_path:to_string([?THIS_KHEPRI_NODE, foo])),
    ?assertEqual(".", khepri_path:to_string([?THIS_KHEPRI_NODE])).

format_parent_node_test() ->
    ?assertEqual("../:foo", khepri_path:to_string([?PARENT_KHEPRI_NODE, foo])),
    ?assertEqual("..", khepri_path:to_string([?PARENT_KHEPRI_NODE])).

format_parent_in_the_middle_test() ->
    ?assertEqual("/:foo/../:bar",
                 khepri_path:to_string([foo, ?PARENT_KHEPRI_NODE, bar])).

format_empty_binaries_test() ->
    ?assertEqual("//", khepri_path:to_string([<<>>])),
    ?assertEqual("/a//", khepri_path:to_string([<<"a">>, <<>>])),
    ?assertEqual(".//:a", khepri_path:to_string([?THIS_KHEPRI_NODE, <<>>, a])).

format_dots_test() ->
    ?assertEqual("/%2Ehidden", khepri_path:to_string([<<".hidden">>])),
    ?assertEqual("/a.b", khepri_path:to_string([<<"a.b">>])).

format_atoms_encoding_test() ->
    ?assertEqual("/:a%3Ab", khepri_path:to_string(['a:b'])),
    ?assertEqual("/:A_b-c~d.e", khepri_path:to_string(['A_b-c~d.e'])).

format_unicode_test() ->
    ?assertEqual("/%C3%A9", khepri_path:to_string([<<"é"/utf8>>])),
    ?assertEqual("/:%C3%A9", khepri_path:to_string(['é'])).

format_condition_is_invalid_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => [?KHEPRI_WILDCARD_STAR],
          component => ?KHEPRI_WILDCARD_STAR}},
       catch_error(
         fun() -> khepri_path:to_string([?KHEPRI_WILDCARD_STAR]) end)).

%% -------------------------------------------------------------------
%% Other from_string/1 and to_string/1 cases.
%% -------------------------------------------------------------------

parse_relative_glob_keeps_no_this_node_test() ->
    %% As upstream: only a leading name gets an explicit `?THIS_KHEPRI_NODE'.
    ?assertEqual([#if_name_matches{regex = "^a.*$"}, <<"b">>],
                 khepri_path:from_string("a*/b")).

parse_percent_encoded_dot_is_a_name_test() ->
    ?assertEqual([<<".">>], khepri_path:from_string("/%2E")),
    ?assertEqual([<<"..">>], khepri_path:from_string("/%2E%2E")),
    ?assertEqual([<<".hidden">>], khepri_path:from_string("/%2Ehidden")).

parse_lower_case_hex_test() ->
    ?assertEqual([<<"a/b">>], khepri_path:from_string("/a%2fb")).

parse_lone_percent_is_kept_test() ->
    ?assertEqual([<<"100%">>, <<"%zz">>, <<"%4">>],
                 khepri_path:from_string("/100%/%zz/%4")).

parse_empty_atom_test() ->
    ?assertEqual([''], khepri_path:from_string("/:")).

parse_caret_name_elsewhere_test() ->
    ?assertEqual([<<"^">>], khepri_path:from_string("/^")),
    ?assertEqual([?THIS_KHEPRI_NODE, <<"^foo">>],
                 khepri_path:from_string("^foo")),
    ?assertEqual([?PARENT_KHEPRI_NODE], khepri_path:from_string("^/")).

parse_non_ascii_glob_test() ->
    ?assertEqual([#if_name_matches{regex = "^é.*$"}],
                 khepri_path:from_string(<<"/é*"/utf8>>)),
    ?assertEqual([#if_name_matches{regex = [$^, 16#4E2D, $., $*, $$]}],
                 khepri_path:from_string([$/, 16#4E2D, $*])).

parse_code_points_above_255_test() ->
    ?assertEqual([<<"中"/utf8>>, '中'],
                 khepri_path:from_string([$/, 16#4E2D, $/, $:, 16#4E2D])),
    ?assertEqual([<<"中"/utf8>>],
                 khepri_path:from_string(<<"/%E4%B8%AD">>)).

parse_binary_bytes_are_kept_test() ->
    %% Binary components of a binary path are its bytes, as upstream.
    ?assertEqual([<<255, 0>>], khepri_path:from_string(<<"/", 255, 0>>)),
    ?assertEqual([<<255>>], khepri_path:from_string("/%FF")).

parse_invalid_code_point_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [$/, 16#110000]}},
       catch_error(fun() -> khepri_path:from_string([$/, 16#110000]) end)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [$/, -1]}},
       catch_error(fun() -> khepri_path:from_string([$/, -1]) end)).

parse_invalid_atom_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => <<"/:a", 255>>, component => <<":a", 255>>}},
       catch_error(fun() -> khepri_path:from_string(<<"/:a", 255>>) end)),
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => "/:%FF", component => ":%FF"}},
       catch_error(fun() -> khepri_path:from_string("/:%FF") end)),
    TooLong = "/:" ++ lists:duplicate(256, $a),
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => TooLong, component => tl(TooLong)}},
       catch_error(fun() -> khepri_path:from_string(TooLong) end)).

parse_improper_list_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [a | b]}},
       catch_error(fun() -> khepri_path:from_string([a | b]) end)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [$a | b]}},
       catch_error(fun() -> khepri_path:from_string([$a | b]) end)).

parse_string_mixed_with_native_test() ->
    Mixed = [$/, $a, foo],
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => Mixed, component => $a}},
       catch_error(fun() -> khepri_path:from_string(Mixed) end)).

parse_native_pattern_unchanged_test() ->
    Pattern = [?PARENT_KHEPRI_NODE, ?KHEPRI_WILDCARD_STAR, <<"x">>],
    ?assertEqual(Pattern, khepri_path:from_string(Pattern)),
    ?assertEqual([?KHEPRI_WILDCARD_STAR],
                 khepri_path:from_string([?KHEPRI_WILDCARD_STAR])).

format_leading_root_marker_test() ->
    ?assertEqual("/:foo", khepri_path:to_string([?KHEPRI_ROOT_NODE, foo])),
    ?assertEqual("/", khepri_path:to_string([?KHEPRI_ROOT_NODE])).

format_root_marker_elsewhere_is_invalid_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => [foo, ?KHEPRI_ROOT_NODE], component => ?KHEPRI_ROOT_NODE}},
       catch_error(
         fun() -> khepri_path:to_string([foo, ?KHEPRI_ROOT_NODE]) end)).

format_not_a_path_test() ->
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => foo}},
       catch_error(fun() -> khepri_path:to_string(foo) end)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [a | b]}},
       catch_error(fun() -> khepri_path:to_string([a | b]) end)),
    %% A Unix-like string is not a native path.
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => "/:a", component => $:}},
       catch_error(fun() -> khepri_path:to_string("/:a") end)).

format_keeps_this_node_before_special_test() ->
    ?assertEqual("./..",
                 khepri_path:to_string([?THIS_KHEPRI_NODE,
                                        ?PARENT_KHEPRI_NODE])),
    ?assertEqual(".//", khepri_path:to_string([?THIS_KHEPRI_NODE, <<>>])),
    ?assertEqual("..//", khepri_path:to_string([?PARENT_KHEPRI_NODE, <<>>])).

format_star_in_binary_test() ->
    ?assertEqual("/a%2A", khepri_path:to_string([<<"a*">>])),
    ?assertEqual("/:a%2A", khepri_path:to_string(['a*'])),
    ?assertEqual(['a*'], khepri_path:from_string("/:a%2A")).

format_atom_leading_dot_test() ->
    ?assertEqual("/:%2E", khepri_path:to_string(['.'])),
    ?assertEqual("/:", khepri_path:to_string([''])).

to_binary_test() ->
    ?assertEqual(<<"/:foo/bar">>, khepri_path:to_binary([foo, <<"bar">>])),
    ?assertEqual(<<"/">>, khepri_path:to_binary([])),
    ?assertEqual(<<"/%C3%A9">>, khepri_path:to_binary([<<"é"/utf8>>])),
    ?assertEqual(
       {khepri_ex, invalid_path,
        #{path => [?KHEPRI_WILDCARD_STAR],
          component => ?KHEPRI_WILDCARD_STAR}},
       catch_error(
         fun() -> khepri_path:to_binary([?KHEPRI_WILDCARD_STAR]) end)).

%% -------------------------------------------------------------------
%% SPEC 2.9: the other functions.
%% -------------------------------------------------------------------

from_binary_test() ->
    ?assertEqual([stock, wood, <<"oak">>],
                 khepri_path:from_binary(<<"/:stock/:wood/oak">>)),
    ?assertEqual([stock], khepri_path:from_binary("/:stock")),
    ?assertEqual([stock], khepri_path:from_binary([stock])),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => 1.0}},
       catch_error(fun() -> khepri_path:from_binary(1.0) end)).

sigils_test() ->
    ?assertEqual([stock, wood, <<"oak">>],
                 khepri_path:sigil_p(<<"/:stock/:wood/oak">>, [])),
    ?assertEqual([stock, wood, <<"oak">>],
                 khepri_path:sigil_P(<<"/:stock/:wood/oak">>, "xyz")),
    ?assertEqual([x], khepri_path:sigil_p("/:x", [])).

combine_with_conditions_test() ->
    ?assertEqual([foo, #if_all{conditions = [bar, #if_has_data{}]}],
                 khepri_path:combine_with_conditions(
                   [foo, bar], [#if_has_data{}])),
    ?assertEqual([#if_all{conditions = [foo,
                                        #if_has_data{},
                                        #if_node_exists{exists = false}]}],
                 khepri_path:combine_with_conditions(
                   [foo], [#if_has_data{}, #if_node_exists{exists = false}])),
    ?assertEqual([foo, bar], khepri_path:combine_with_conditions([foo, bar], [])),
    ?assertEqual([], khepri_path:combine_with_conditions([], [])).

targets_specific_node_test() ->
    ?assertEqual(
       {true, [foo, bar]},
       khepri_path:targets_specific_node(
         [foo, #if_all{conditions = [bar, #if_has_data{}]}])),
    ?assertEqual({true, []}, khepri_path:targets_specific_node([])),
    ?assertEqual({true, [?THIS_KHEPRI_NODE, ?PARENT_KHEPRI_NODE, a]},
                 khepri_path:targets_specific_node(
                   [?THIS_KHEPRI_NODE, ?PARENT_KHEPRI_NODE, a])),
    ?assertEqual({true, [a, <<"b">>]},
                 khepri_path:targets_specific_node(
                   [#if_any{conditions = [a, a]}, <<"b">>])),
    ?assertEqual(false,
                 khepri_path:targets_specific_node(
                   [foo, ?KHEPRI_WILDCARD_STAR])),
    ?assertEqual(false,
                 khepri_path:targets_specific_node(
                   [?KHEPRI_WILDCARD_STAR_STAR, foo])),
    ?assertEqual(false,
                 khepri_path:targets_specific_node(
                   [foo, #if_any{conditions = [a, b]}])).

component_targets_specific_node_test() ->
    T = fun khepri_path:component_targets_specific_node/1,
    ?assertEqual({true, foo}, T(foo)),
    ?assertEqual({true, <<"foo">>}, T(<<"foo">>)),
    ?assertEqual({true, ?THIS_KHEPRI_NODE}, T(?THIS_KHEPRI_NODE)),
    ?assertEqual({true, ?PARENT_KHEPRI_NODE}, T(?PARENT_KHEPRI_NODE)),
    ?assertEqual({true, ?KHEPRI_ROOT_NODE}, T(?KHEPRI_ROOT_NODE)),
    %% `#if_all{}' holding a name, other conditions beside it.
    ?assertEqual({true, a},
                 T(#if_all{conditions = [#if_has_data{}, a,
                                         #if_payload_version{version = 2}]})),
    ?assertEqual({true, a},
                 T(#if_all{conditions = [a, #if_node_exists{exists = false}]})),
    ?assertEqual({true, a}, T(#if_all{conditions = [a, a]})),
    %% `?THIS_KHEPRI_NODE' is always true inside a condition.
    ?assertEqual({true, a},
                 T(#if_all{conditions = [?THIS_KHEPRI_NODE, a]})),
    ?assertEqual(false, T(#if_all{conditions = [?THIS_KHEPRI_NODE]})),
    %% Two different names: no node can match.
    ?assertEqual(false, T(#if_all{conditions = [a, b]})),
    ?assertEqual(false, T(#if_all{conditions = [a, b, c]})),
    ?assertEqual(false, T(#if_all{conditions = []})),
    ?assertEqual(false, T(#if_all{conditions = [#if_has_data{}]})),
    %% `#if_any{}' reducing to one name.
    ?assertEqual({true, a}, T(#if_any{conditions = [a]})),
    ?assertEqual({true, a},
                 T(#if_any{conditions = [a, #if_all{conditions =
                                                     [a, #if_has_data{}]}]})),
    ?assertEqual(false, T(#if_any{conditions = [a, b]})),
    ?assertEqual(false, T(#if_any{conditions = [a, #if_has_data{}]})),
    ?assertEqual(false, T(#if_any{conditions = []})),
    %% Nested.
    ?assertEqual({true, b},
                 T(#if_all{conditions = [#if_any{conditions = [a, b]},
                                         #if_any{conditions = [b, c]}]})),
    %% Never bounded.
    ?assertEqual(false, T(#if_not{condition = a})),
    ?assertEqual(false, T(?KHEPRI_WILDCARD_STAR)),
    ?assertEqual(false, T(?KHEPRI_WILDCARD_STAR_STAR)),
    ?assertEqual(false, T(#if_name_matches{regex = "^a$"})),
    ?assertEqual(false, T(#if_has_data{})),
    ?assertEqual(false, T({not_a_condition})).

component_targets_specific_siblings_test() ->
    S = fun khepri_path:component_targets_specific_siblings/1,
    ?assertEqual({true, [a, b]}, S(#if_any{conditions = [a, b]})),
    ?assertEqual({true, [a, b, <<"c">>]},
                 S(#if_any{conditions = [<<"c">>, b, a, b]})),
    ?assertEqual({true, [foo]}, S(foo)),
    ?assertEqual({true, [?THIS_KHEPRI_NODE]}, S(?THIS_KHEPRI_NODE)),
    ?assertEqual({true, [a, b]},
                 S(#if_all{conditions = [#if_any{conditions = [a, b, c]},
                                         #if_not{condition = c},
                                         #if_any{conditions = [b, a]}]})),
    ?assertEqual({true, [a, b]},
                 S(#if_any{conditions = [#if_all{conditions = [a, #if_has_data{}]},
                                         b]})),
    ?assertEqual(false, S(#if_any{conditions = [a, ?KHEPRI_WILDCARD_STAR]})),
    ?assertEqual(false, S(#if_any{conditions = [a, ?THIS_KHEPRI_NODE]})),
    ?assertEqual(false, S(#if_any{conditions = []})),
    ?assertEqual(false, S(#if_all{conditions = [a, b]})),
    ?assertEqual(false, S(#if_not{condition = a})),
    ?assertEqual(false, S(?KHEPRI_WILDCARD_STAR)).

is_valid_test() ->
    ?assertEqual(true, khepri_path:is_valid([])),
    ?assertEqual(true, khepri_path:is_valid([foo, <<"bar">>])),
    ?assertEqual(true,
                 khepri_path:is_valid(
                   [?KHEPRI_ROOT_NODE, ?THIS_KHEPRI_NODE, ?PARENT_KHEPRI_NODE,
                    ?KHEPRI_WILDCARD_STAR, ?KHEPRI_WILDCARD_STAR_STAR,
                    #if_has_payload{}, #if_has_data{has_data = false},
                    #if_has_sproc{}, #if_data_matches{pattern = {a, '_'}},
                    #if_node_exists{exists = false},
                    #if_payload_version{version = {gt, 1}},
                    #if_child_list_version{version = 3},
                    #if_child_list_length{count = {ge, 0}},
                    #if_not{condition = a},
                    #if_all{conditions = [a, #if_any{conditions = [b]}]},
                    #if_any{conditions = []}])),
    ?assertEqual({false, 42}, khepri_path:is_valid([foo, 42])),
    ?assertEqual({false, "x"}, khepri_path:is_valid([foo, "x", 42])),
    ?assertEqual({false, #if_node_exists{exists = maybe}},
                 khepri_path:is_valid([#if_node_exists{exists = maybe}])),
    ?assertEqual({false, #if_has_data{has_data = 1}},
                 khepri_path:is_valid(
                   [#if_all{conditions = [a, #if_has_data{has_data = 1}]}])),
    ?assertEqual({false, #if_all{conditions = not_a_list}},
                 khepri_path:is_valid([#if_all{conditions = not_a_list}])),
    ?assertEqual({false, #if_data_matches{conditions = x}},
                 khepri_path:is_valid([#if_data_matches{conditions = x}])),
    ?assertEqual({false, {foo}},
                 khepri_path:is_valid([#if_not{condition = {foo}}])),
    ?assertEqual({false, foo}, khepri_path:is_valid(foo)),
    ?assertEqual({false, <<"/foo">>}, khepri_path:is_valid(<<"/foo">>)),
    ?assertEqual({false, [a | b]}, khepri_path:is_valid([a | b])).

is_valid_component_test() ->
    ?assertEqual(true, khepri_path:is_valid_component(foo)),
    ?assertEqual(true, khepri_path:is_valid_component(?KHEPRI_WILDCARD_STAR)),
    ?assertEqual({false, 42}, khepri_path:is_valid_component(42)).

ensure_is_valid_test() ->
    ?assertEqual(ok, khepri_path:ensure_is_valid([foo, ?KHEPRI_WILDCARD_STAR])),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => [foo, 42], component => 42}},
       catch_error(fun() -> khepri_path:ensure_is_valid([foo, 42]) end)),
    ?assertEqual(
       {khepri_ex, invalid_path, #{path => foo, component => foo}},
       catch_error(fun() -> khepri_path:ensure_is_valid(foo) end)).

abspath_test() ->
    ?assertEqual([foo, bar], khepri_path:abspath([foo, bar], [base])),
    ?assertEqual([], khepri_path:abspath([], [base])),
    ?assertEqual([base, foo],
                 khepri_path:abspath([?THIS_KHEPRI_NODE, foo], [base])),
    ?assertEqual([a, x],
                 khepri_path:abspath([?PARENT_KHEPRI_NODE, x], [a, b])),
    ?assertEqual([a, b],
                 khepri_path:abspath([?THIS_KHEPRI_NODE], [a, b])),
    ?assertEqual([x],
                 khepri_path:abspath([?PARENT_KHEPRI_NODE,
                                      ?PARENT_KHEPRI_NODE,
                                      ?PARENT_KHEPRI_NODE, x], [a, b])),
    ?assertEqual([?KHEPRI_WILDCARD_STAR, c],
                 khepri_path:abspath([?PARENT_KHEPRI_NODE, c],
                                     [?KHEPRI_WILDCARD_STAR, b])).

realpath_test() ->
    ?assertEqual([], khepri_path:realpath([])),
    ?assertEqual([foo, bar], khepri_path:realpath([foo, bar])),
    ?assertEqual([bar], khepri_path:realpath([foo, ?KHEPRI_ROOT_NODE, bar])),
    ?assertEqual([foo, bar],
                 khepri_path:realpath([?THIS_KHEPRI_NODE, foo,
                                       ?THIS_KHEPRI_NODE, bar])),
    ?assertEqual([bar],
                 khepri_path:realpath([foo, ?PARENT_KHEPRI_NODE, bar])),
    ?assertEqual([bar],
                 khepri_path:realpath([?PARENT_KHEPRI_NODE,
                                       ?PARENT_KHEPRI_NODE, bar])),
    ?assertEqual([?KHEPRI_WILDCARD_STAR],
                 khepri_path:realpath([?KHEPRI_WILDCARD_STAR,
                                       ?THIS_KHEPRI_NODE])).

pattern_includes_root_node_test() ->
    ?assert(khepri_path:pattern_includes_root_node([])),
    ?assert(khepri_path:pattern_includes_root_node([?KHEPRI_ROOT_NODE])),
    ?assert(khepri_path:pattern_includes_root_node([?THIS_KHEPRI_NODE])),
    ?assert(khepri_path:pattern_includes_root_node(
              [foo, ?PARENT_KHEPRI_NODE])),
    ?assertNot(khepri_path:pattern_includes_root_node([foo])),
    ?assertNot(khepri_path:pattern_includes_root_node(
                 [?KHEPRI_WILDCARD_STAR])).

compile_test() ->
    Pattern = [foo, #if_name_matches{regex = "^a"}, ?KHEPRI_WILDCARD_STAR_STAR],
    %% names stay; conditions keep their fields and get their cache filled
    [foo, #if_name_matches{regex = "^a", compiled = Compiled},
     #if_path_matches{regex = any}] = khepri_path:compile(Pattern),
    ?assertNotEqual(undefined, Compiled),
    ?assertEqual([], khepri_path:compile([])).

%% Pattern arguments which are not proper lists raise `invalid_path' (never
%% a crash in a list function), with `component' for a malformed
%% `#if_all{}'/`#if_any{}'.
helpers_bad_pattern_test() ->
    Improper = #if_all{conditions = [a | b]},
    Cases =
    [{#{path => [a | b]}, fun() -> khepri_path:realpath([a | b]) end},
     {#{path => foo}, fun() -> khepri_path:realpath(foo) end},
     {#{path => <<"/">>},
      fun() -> khepri_path:pattern_includes_root_node(<<"/">>) end},
     {#{path => [known | x]},
      fun() -> khepri_path:targets_specific_node([known | x]) end},
     %% The improper tail is found even after a component bounding nothing.
     {#{path => [?KHEPRI_WILDCARD_STAR | x]},
      fun() ->
              khepri_path:targets_specific_node([?KHEPRI_WILDCARD_STAR | x])
      end},
     {#{path => foo}, fun() -> khepri_path:targets_specific_node(foo) end},
     {#{path => [a, Improper], component => Improper},
      fun() -> khepri_path:targets_specific_node([a, Improper]) end},
     {#{path => Improper, component => Improper},
      fun() -> khepri_path:component_targets_specific_siblings(Improper) end},
     {#{path => #if_any{conditions = [a, Improper]}, component => Improper},
      fun() ->
              khepri_path:component_targets_specific_siblings(
                #if_any{conditions = [a, Improper]})
      end},
     {#{path => #if_any{conditions = x},
        component => #if_any{conditions = x}},
      fun() ->
              khepri_path:component_targets_specific_node(
                #if_any{conditions = x})
      end},
     {#{path => [$a, $b | foo]},
      fun() -> khepri_path:compile([$a, $b | foo]) end},
     {#{path => foo}, fun() -> khepri_path:compile(foo) end},
     {#{path => [a | b]},
      fun() -> khepri_path:combine_with_conditions([a | b], [c]) end},
     {#{path => [a], component => #if_all{conditions = [a, c | d]}},
      fun() -> khepri_path:combine_with_conditions([a], [c | d]) end},
     {#{path => [a], component => #if_all{conditions = [a | d]}},
      fun() -> khepri_path:combine_with_conditions([a], d) end},
     {#{path => foo},
      fun() -> khepri_path:combine_with_conditions(foo, [c]) end},
     {#{path => []},
      fun() -> khepri_path:combine_with_conditions([], [c]) end},
     {#{path => <<"x">>},
      fun() -> khepri_path:abspath("^/foo", <<"x">>) end},
     {#{path => [base | x]},
      fun() -> khepri_path:abspath([?THIS_KHEPRI_NODE], [base | x]) end},
     {#{path => [?THIS_KHEPRI_NODE, a | b]},
      fun() -> khepri_path:abspath([?THIS_KHEPRI_NODE, a | b], [base]) end},
     {#{path => [a | b]}, fun() -> khepri_path:abspath([a | b], [base]) end},
     {#{path => foo}, fun() -> khepri_path:abspath(foo, [base]) end}],
    lists:foreach(
      fun({Props, Fun}) ->
              ?assertEqual({Props, ?INVALID(Props)}, {Props, catch_error(Fun)})
      end, Cases),
    %% The base of an absolute path is not used, so not checked.
    ?assertEqual([a], khepri_path:abspath([a], foo)).

%% is_valid/1 refuses what the engine cannot take (the rules are those of
%% khepri_condition:is_valid/1, tested there too).
is_valid_engine_limits_test() ->
    Valid = [[?KHEPRI_ROOT_NODE, a],
             [a, ?KHEPRI_ROOT_NODE],
             [#if_all{conditions = [?THIS_KHEPRI_NODE, a]}],
             [#if_not{condition = ?PARENT_KHEPRI_NODE}],
             [#if_name_matches{regex = <<"^a"/utf8>>}],
             [#if_path_matches{regex = [16#4E2D]}],
             [#if_payload_version{version = (1 bsl 63) - 1}],
             [#if_child_list_length{count = {lt, -(1 bsl 63)}}]],
    lists:foreach(
      fun(P) -> ?assertEqual({P, true}, {P, khepri_path:is_valid(P)}) end,
      Valid),
    Invalid = [#if_all{conditions = [a, ?KHEPRI_ROOT_NODE]},
               #if_any{conditions = [?KHEPRI_ROOT_NODE]},
               #if_not{condition = ?KHEPRI_ROOT_NODE},
               #if_name_matches{regex = 42},
               #if_name_matches{regex = [$a | c]},
               #if_path_matches{regex = <<255>>},
               #if_payload_version{version = foo},
               #if_payload_version{version = -1},
               #if_child_list_version{version = 1 bsl 63},
               #if_child_list_length{count = {eq, 1 bsl 63}},
               #if_child_list_length{count = {foo, 1}}],
    lists:foreach(
      fun(C) ->
              Culprit = case C of
                            #if_not{} -> ?KHEPRI_ROOT_NODE;
                            #if_all{} -> ?KHEPRI_ROOT_NODE;
                            #if_any{} -> ?KHEPRI_ROOT_NODE;
                            _         -> C
                        end,
              ?assertEqual({C, {false, Culprit}},
                           {C, khepri_path:is_valid([a, C])}),
              ?assertEqual(
                 {C, ?INVALID(#{path => [a, C], component => Culprit})},
                 {C, catch_error(
                       fun() -> khepri_path:ensure_is_valid([a, C]) end)})
      end, Invalid),
    Deep = nest(101, a),
    ?assertEqual({false, nest(1, a)}, khepri_path:is_valid([Deep])),
    ?assertEqual(true, khepri_path:is_valid([nest(100, a)])).

%% `N' `#if_not{}' around `Inner'.
nest(0, Inner) -> Inner;
nest(N, Inner) -> #if_not{condition = nest(N - 1, Inner)}.

%% -------------------------------------------------------------------
%% include/khepri.hrl.
%% -------------------------------------------------------------------

record_defaults_test() ->
    ?assertEqual({if_name_matches, any, undefined}, #if_name_matches{}),
    ?assertEqual({if_path_matches, any, undefined}, #if_path_matches{}),
    ?assertEqual({if_has_payload, true}, #if_has_payload{}),
    ?assertEqual({if_has_data, true}, #if_has_data{}),
    ?assertEqual({if_has_sproc, true}, #if_has_sproc{}),
    ?assertEqual({if_data_matches, '_', [], undefined}, #if_data_matches{}),
    ?assertEqual({if_node_exists, true}, #if_node_exists{}),
    ?assertEqual({if_payload_version, 0}, #if_payload_version{}),
    ?assertEqual({if_child_list_version, 0}, #if_child_list_version{}),
    ?assertEqual({if_child_list_length, 0}, #if_child_list_length{}),
    ?assertEqual({if_not, undefined}, #if_not{}),
    ?assertEqual({if_all, []}, #if_all{}),
    ?assertEqual({if_any, []}, #if_any{}),
    ?assertEqual({khepri_trigger, tree, undefined, undefined, #{}, #{}},
                 #khepri_trigger{}),
    ?assertEqual([type, store_id, trigger_id, event, action],
                 record_info(fields, khepri_trigger)),
    ?assertEqual([pattern, conditions, compiled],
                 record_info(fields, if_data_matches)).

macros_test() ->
    ?assertEqual($/, ?KHEPRI_ROOT_NODE),
    ?assertEqual($., ?THIS_KHEPRI_NODE),
    ?assertEqual($^, ?PARENT_KHEPRI_NODE),
    ?assertEqual(#if_name_matches{regex = any}, ?KHEPRI_WILDCARD_STAR),
    ?assertEqual(#if_path_matches{regex = any}, ?KHEPRI_WILDCARD_STAR_STAR),
    ?assertEqual({khepri, n, #{a => 1}}, ?khepri_error(n, #{a => 1})),
    ?assertEqual({khepri_ex, n, #{a => 1}}, ?khepri_exception(n, #{a => 1})).

guard_macros_test() ->
    Cases =
    [{store_id, khepri, true}, {store_id, "khepri", false},
     {node_id, foo, true}, {node_id, <<"foo">>, true}, {node_id, $., false},
     {component, foo, true}, {component, $/, true}, {component, $., true},
     {component, $^, true}, {component, $a, false},
     {component, ?KHEPRI_WILDCARD_STAR, false},
     {special, $/, true}, {special, $., true}, {special, $^, true},
     {special, foo, false},
     {path, [], true}, {path, [foo, bar], true}, {path, [$., foo], true},
     {path, [?KHEPRI_WILDCARD_STAR], false}, {path, <<"/foo">>, false},
     {path, foo, false},
     {path_or_compat, "/:foo", true}, {path_or_compat, <<"/foo">>, true},
     {path_or_compat, [foo], true}, {path_or_compat, [], true},
     {path_or_compat, [?KHEPRI_WILDCARD_STAR], false},
     {path_or_compat, foo, false},
     {condition, #if_has_data{}, true}, {condition, #if_any{}, true},
     {condition, ?KHEPRI_WILDCARD_STAR, true}, {condition, {foo, bar}, false},
     {condition, foo, false},
     {path_condition, foo, true}, {path_condition, #if_not{}, true},
     {path_condition, {x}, false},
     {pattern, [?KHEPRI_WILDCARD_STAR, foo], true}, {pattern, [], true},
     {pattern, [foo], true}, {pattern, [{x}], false}, {pattern, "", true},
     {pattern, <<"/foo">>, false},
     {pattern_or_compat, <<"/foo">>, true},
     {pattern_or_compat, [#if_all{}], true},
     {pattern_or_compat, [{x}], false},
     {pattern_or_compat, 42, false}],
    lists:foreach(
      fun({Macro, Term, Expected}) ->
              ?assertEqual({Macro, Term, Expected},
                           {Macro, Term, guard(Macro, Term)})
      end, Cases).

guard(store_id, T) when ?IS_KHEPRI_STORE_ID(T) -> true;
guard(node_id, T) when ?IS_KHEPRI_NODE_ID(T) -> true;
guard(component, T) when ?IS_KHEPRI_PATH_COMPONENT(T) -> true;
guard(special, T) when ?IS_SPECIAL_KHEPRI_PATH_COMPONENT(T) -> true;
guard(path, T) when ?IS_KHEPRI_PATH(T) -> true;
guard(path_or_compat, T) when ?IS_KHEPRI_PATH_OR_COMPAT(T) -> true;
guard(condition, T) when ?IS_KHEPRI_CONDITION(T) -> true;
guard(path_condition, T) when ?IS_KHEPRI_PATH_CONDITION(T) -> true;
guard(pattern, T) when ?IS_KHEPRI_PATH_PATTERN(T) -> true;
guard(pattern_or_compat, T) when ?IS_KHEPRI_PATH_PATTERN_OR_COMPAT(T) -> true;
guard(_, _) -> false.

%% -------------------------------------------------------------------
%% Property: from_string(to_string(P)) =:= P.
%% -------------------------------------------------------------------

-define(ROUNDTRIP_ITERATIONS, 20000).

%% A fixed set so that the test does not grow the atom table.
roundtrip_atoms() ->
    {foo, 'a b', 'é', 'a:b', '.hidden', '', '.', '..', '*', 'a/b', '%41',
     'A_b-c~d.e', '中文', '^', 'x%'}.

roundtrip_property_test_() ->
    {timeout, 120,
     fun() ->
             _ = rand:seed(exsss, {16#4b, 16#68, 16#65}),
             roundtrip_loop(?ROUNDTRIP_ITERATIONS)
     end}.

roundtrip_loop(0) ->
    ok;
roundtrip_loop(N) ->
    Path = random_path(),
    String = khepri_path:to_string(Path),
    Binary = khepri_path:to_binary(Path),
    ?assertEqual({Path, String}, {khepri_path:from_string(String), String}),
    ?assertEqual({Path, Binary}, {khepri_path:from_binary(Binary), Binary}),
    %% to_string/1 only outputs ASCII, so both forms are the same text.
    ?assertEqual(Binary, list_to_binary(String)),
    roundtrip_loop(N - 1).

random_path() ->
    [random_component() || _ <- lists:seq(1, rand:uniform(6) - 1)].

random_component() ->
    case rand:uniform(10) of
        1 -> ?THIS_KHEPRI_NODE;
        2 -> ?PARENT_KHEPRI_NODE;
        N when N =< 5 ->
            Atoms = roundtrip_atoms(),
            element(rand:uniform(tuple_size(Atoms)), Atoms);
        _ ->
            random_binary()
    end.

%% UTF-8 names with the characters that need care in the Unix syntax; `*' is
%% excluded (it is encoded `%2A', which parses back as a glob).
random_binary() ->
    Chars = [random_char() || _ <- lists:seq(1, rand:uniform(6) - 1)],
    Chars1 = case rand:uniform(5) of
                 1 -> [$. | Chars];
                 _ -> Chars
             end,
    unicode:characters_to_binary(Chars1).

random_char() ->
    Specials = {$., $%, $/, $:, $\s, $^, $~, $-, $_, $?, $#, $+, $=, $\\},
    case rand:uniform(6) of
        1 -> element(rand:uniform(tuple_size(Specials)), Specials);
        2 -> $a + rand:uniform(26) - 1;
        3 -> $0 + rand:uniform(10) - 1;
        4 -> 16#A0 + rand:uniform(16#60) - 1;          % Latin-1 supplement
        5 -> 16#4E00 + rand:uniform(16#100) - 1;       % CJK
        6 -> 16#1F600 + rand:uniform(16#40) - 1        % 4-byte UTF-8
    end.

%% -------------------------------------------------------------------
%% Helpers.
%% -------------------------------------------------------------------

%% Returns the reason of an `error' exception, to compare it exactly.
catch_error(Fun) ->
    try Fun() of
        Ret -> {no_exception, Ret}
    catch
        error:Reason -> Reason
    end.
