%% EUnit tests of khepri_projection:new/2,3 and name/1 (the projection
%% description and its validation). Pure Erlang: no store, no NIF.
-module(khepri_projection_tests).

-include_lib("eunit/include/eunit.hrl").

-include("khepri.hrl").
-include("khepri_test.hrl").
-include("khepri_projection.hrl").

%% Logger handler callback, to capture the warning about public tables.
-export([log/2]).


simple_fun() ->
    fun([stock, wood, Kind], Stock) -> {Kind, Stock} end.

extended_fun() ->
    fun(_Tids, _Path, _OldProps, _NewProps) -> ok end.

%% -------------------------------------------------------------------
%% Valid projections.
%% -------------------------------------------------------------------

copy_defaults_test() ->
    P = khepri_projection:new(users, copy),
    ?assertEqual(#khepri_projection{name = users,
                                    projection_fun = copy,
                                    ets_options = [named_table, protected]},
                 P),
    ?assertEqual(users, khepri_projection:name(P)),
    ?assertEqual(P, khepri_projection:new(users, copy, #{})).

copy_with_options_test() ->
    P = khepri_projection:new(
          queues, copy,
          #{keypos => 2, type => ordered_set, read_concurrency => true,
            write_concurrency => auto, compressed => true,
            standalone_fun_options => #{anything => ignored}}),
    ?assertEqual([named_table, protected, compressed, {keypos, 2},
                  {read_concurrency, true}, ordered_set,
                  {write_concurrency, auto}],
                 P#khepri_projection.ets_options),
    %% `compressed => false' adds nothing.
    ?assertEqual([named_table, protected],
                 (khepri_projection:new(q, copy, #{compressed => false}))
                 #khepri_projection.ets_options),
    %% Copy and extended funs may use any ETS type.
    ?assertEqual([named_table, protected, bag],
                 (khepri_projection:new(q, copy, #{type => bag}))
                 #khepri_projection.ets_options).

protection_test() ->
    %% `public' is allowed (a warning is logged for copy/simple funs).
    ?assertEqual([named_table, public],
                 (khepri_projection:new(p, copy, #{protection => public}))
                 #khepri_projection.ets_options),
    ?assertEqual([named_table, private, {read_concurrency, false}],
                 (khepri_projection:new(
                    p, extended_fun(),
                    #{protection => private, read_concurrency => false}))
                 #khepri_projection.ets_options),
    ?assertEqual([named_table, protected],
                 (khepri_projection:new(p, copy, #{protection => protected}))
                 #khepri_projection.ets_options).

simple_fun_test() ->
    Fun = simple_fun(),
    P = khepri_projection:new(wood_stocks, Fun, #{type => ordered_set}),
    ?assertEqual(#khepri_projection{name = wood_stocks,
                                    projection_fun = Fun,
                                    ets_options = [named_table, protected,
                                                   ordered_set]},
                 P),
    ?assertEqual([named_table, protected, set],
                 (khepri_projection:new(w, Fun, #{type => set}))
                 #khepri_projection.ets_options).

extended_fun_single_table_test() ->
    Fun = extended_fun(),
    P = khepri_projection:new(routes, Fun, #{type => duplicate_bag}),
    ?assertEqual(#khepri_projection{name = routes,
                                    projection_fun = Fun,
                                    ets_options = [named_table, protected,
                                                   duplicate_bag]},
                 P).

extended_fun_multi_table_test() ->
    Fun = extended_fun(),
    P = khepri_projection:new(
          wood, Fun,
          #{tables => #{wood_stocks => #{},
                        wood_needs => #{type => bag, keypos => 2}},
            type => set,
            read_concurrency => true,
            standalone_fun_options => #{}}),
    ?assertEqual(wood, khepri_projection:name(P)),
    ?assertEqual(Fun, P#khepri_projection.projection_fun),
    ?assertEqual(#{wood_stocks => [named_table, protected,
                                   {read_concurrency, true}, set],
                   wood_needs => [named_table, protected, {keypos, 2},
                                  {read_concurrency, true}, bag]},
                 P#khepri_projection.ets_options).

%% -------------------------------------------------------------------
%% Misuse.
%% -------------------------------------------------------------------

multi_table_with_copy_test() ->
    Options = #{tables => #{a => #{}}},
    ?assertRaise(?EX(multi_table_projection_incompatible_with_copy_func,
                     #{name => p, projection_fun => copy,
                       options => Options}),
                 khepri_projection:new(p, copy, Options)).

multi_table_with_simple_fun_test() ->
    Fun = simple_fun(),
    Options = #{tables => #{a => #{}}, type => set},
    ?assertRaise(?EX(multi_table_projection_incompatible_with_simple_func,
                     #{name => p, projection_fun => Fun,
                       options => Options}),
                 khepri_projection:new(p, Fun, Options)).

simple_fun_type_test() ->
    Fun = simple_fun(),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => type, value => bag}),
                 khepri_projection:new(p, Fun, #{type => bag})),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => type, value => duplicate_bag}),
                 khepri_projection:new(p, Fun, #{type => duplicate_bag})).

unexpected_options_test() ->
    Cases = [{#{type => heap}, type, heap},
             {#{keypos => 0}, keypos, 0},
             {#{keypos => first}, keypos, first},
             {#{read_concurrency => yes}, read_concurrency, yes},
             {#{write_concurrency => maybe}, write_concurrency, maybe},
             {#{compressed => 1}, compressed, 1},
             {#{protection => shared}, protection, shared},
             {#{named_table => true}, named_table, true},
             {#{heir => none}, heir, none}],
    lists:foreach(
      fun({Options, Key, Value}) ->
              ?assertRaise(?EX(unexpected_projection_option,
                               #{name => Key, value => Value}),
                           khepri_projection:new(p, copy, Options)),
              ?assertRaise(?EX(unexpected_projection_option,
                               #{name => Key, value => Value}),
                           khepri_projection:new(p, extended_fun(), Options))
      end, Cases).

multi_table_unexpected_options_test() ->
    Fun = extended_fun(),
    %% Invalid per-table value, and per-table keys that are not ETS options.
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => type, value => heap}),
                 khepri_projection:new(
                   p, Fun, #{tables => #{a => #{type => heap}}})),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => tables, value => #{}}),
                 khepri_projection:new(
                   p, Fun, #{tables => #{a => #{tables => #{}}}})),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => standalone_fun_options, value => #{}}),
                 khepri_projection:new(
                   p, Fun,
                   #{tables => #{a => #{standalone_fun_options => #{}}}})),
    %% A global option is checked for every table.
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => keypos, value => -1}),
                 khepri_projection:new(
                   p, Fun, #{tables => #{a => #{}}, keypos => -1})),
    %% The tables map itself.
    lists:foreach(
      fun(Tables) ->
              ?assertRaise(?EX(unexpected_projection_option,
                               #{name => tables, value => Tables}),
                           khepri_projection:new(p, Fun, #{tables => Tables}))
      end, [#{}, [a, b], #{"a" => #{}}, #{a => [set]}]).

invalid_arguments_test() ->
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => name, value => "p"}),
                 khepri_projection:new("p", copy)),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => options, value => [set]}),
                 khepri_projection:new(p, copy, [set])),
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => projection_fun, value => paste}),
                 khepri_projection:new(p, paste)),
    Fun3 = fun(_, _, _) -> ok end,
    ?assertRaise(?EX(unexpected_projection_option,
                     #{name => projection_fun, value => Fun3}),
                 khepri_projection:new(p, Fun3)).

%% -------------------------------------------------------------------
%% Warning about public tables.
%% -------------------------------------------------------------------

log(#{level := Level, msg := Msg}, #{config := #{pid := Pid}}) ->
    Pid ! {logged, Level, Msg},
    ok.

warnings_for(Fun) ->
    HandlerId = ?MODULE,
    ok = logger:add_handler(HandlerId, ?MODULE,
                            #{level => warning, config => #{pid => self()}}),
    try
        Fun(),
        collect_warnings([])
    after
        ok = logger:remove_handler(HandlerId)
    end.

collect_warnings(Acc) ->
    receive
        {logged, warning, {Format, Args}} ->
            collect_warnings([lists:flatten(io_lib:format(Format, Args)) | Acc])
    after 100 ->
        lists:reverse(Acc)
    end.

public_table_warning_test() ->
    %% copy and simple funs: the store assumes it is the only writer.
    ?assertMatch(
       [_, _],
       warnings_for(
         fun() ->
                 _ = khepri_projection:new(p1, copy, #{protection => public}),
                 _ = khepri_projection:new(p2, simple_fun(),
                                           #{protection => public})
         end)),
    [Warning] = warnings_for(
                  fun() ->
                          khepri_projection:new(p3, copy,
                                                #{protection => public})
                  end),
    ?assertNotEqual(nomatch, string:find(Warning, "p3")),
    ?assertNotEqual(nomatch, string:find(Warning, "public")),
    %% Extended funs manage the tables themselves; protected is the default.
    ?assertEqual(
       [],
       warnings_for(
         fun() ->
                 _ = khepri_projection:new(p4, extended_fun(),
                                           #{protection => public}),
                 _ = khepri_projection:new(p5, copy),
                 _ = khepri_projection:new(p6, copy,
                                           #{protection => private})
         end)).
