%% @doc The service, read and write functions of SPEC 2.1-2.3 on one member:
%% every arity form, exact return and error terms, and bad input.
-module(khepri_api_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-import(khepri_test_helpers, [with_store/2, tmp_dir/1, engine_log_index/1]).

put_get_exists_delete_test() ->
    with_store(api1, fun(S, _) ->
        ?assertEqual(ok, khepri:put(S, [stock, wood, <<"oak">>], 150)),
        ?assertEqual({ok, 150}, khepri:get(S, [stock, wood, <<"oak">>])),
        ?assertEqual({ok, 150}, khepri:get(S, "/:stock/:wood/oak")),
        ?assertEqual({ok, 150}, khepri:get(S, <<"/:stock/:wood/oak">>)),
        ?assertEqual({ok, undefined}, khepri:get(S, [stock, wood])),
        ?assert(khepri:exists(S, [stock])),
        ?assertNot(khepri:exists(S, [stock, metal])),
        ?assertEqual(ok, khepri:put(S, "/:stock/:wood/oak", 140)),
        ?assertEqual({ok, 140}, khepri:get(S, [stock, wood, <<"oak">>])),
        ?assertEqual(ok, khepri:delete(S, "/:stock/:wood/oak")),
        ?assertNot(khepri:exists(S, [stock, wood, <<"oak">>])),
        %% auto-created ancestors went away with their last child
        ?assertNot(khepri:exists(S, [stock])),
        ?assertEqual(ok, khepri:delete(S, [never, existed]))
    end).

any_term_is_a_payload_test() ->
    with_store(api2, fun(S, _) ->
        Big = binary:copy(<<"x">>, 200000),
        Terms = [#{a => [1, 2.5, <<"b">>]}, {tuple, self(), make_ref()},
                 "string", 1 bsl 100, Big, [], <<>>],
        [begin
             P = [t, integer_to_binary(N)],
             ok = khepri:put(S, P, T),
             ?assertEqual({ok, T}, khepri:get(S, P))
         end || {N, T} <- lists:zip(lists:seq(1, length(Terms)), Terms)]
    end).

node_not_found_terms_test() ->
    with_store(api3, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        ?assertEqual({error, ?khepri_error(node_not_found,
                                           #{node_name => b, node_path => [a, b],
                                             node_is_target => true})},
                     khepri:get(S, [a, b])),
        ?assertEqual({error, ?khepri_error(node_not_found,
                                           #{node_name => <<"x">>,
                                             node_path => [<<"x">>],
                                             node_is_target => false})},
                     khepri:get(S, [<<"x">>, y]))
    end).

arity_forms_and_default_store_test() ->
    Dir = tmp_dir("default"),
    {ok, khepri} = khepri:start(Dir),
    try
        ?assertEqual(ok, khepri:put([d, k], 1)),
        ?assertEqual(ok, khepri:put([d, k2], 2, #{timeout => 5000})),
        ?assertEqual({ok, 1}, khepri:get([d, k])),
        ?assertEqual({ok, 2}, khepri:get([d, k2], #{})),
        ?assert(khepri:exists([d, k])),
        ?assert(khepri:exists([d, k], #{})),
        ?assertEqual(ok, khepri:delete([d, k])),
        ?assertEqual(ok, khepri:delete([d, k2], #{})),
        ?assertNot(khepri:exists([d])),
        ?assertEqual([khepri], khepri:get_store_ids()),
        ?assert(khepri_cluster:is_store_running(khepri)),
        ?assertEqual(khepri, khepri_cluster:get_default_store_id())
    after
        ok = khepri:stop(),
        _ = file:del_dir_r(Dir)
    end.

start_is_idempotent_and_stop_of_unknown_store_is_ok_test() ->
    with_store(api4, fun(S, Dir) ->
        ?assertEqual({ok, S}, khepri:start(Dir, S)),
        ?assertEqual({ok, S}, khepri:start(Dir, #{cluster_name => S}, 10000)),
        ?assertEqual(ok, khepri:stop(no_such_store))
    end).

store_not_running_test() ->
    ?assertEqual({error, noproc}, khepri:get(not_running, [a])),
    ?assertEqual({error, noproc}, khepri:put(not_running, [a], 1)),
    ?assertEqual({error, noproc}, khepri:exists(not_running, [a])),
    ?assertEqual({error, noproc}, khepri:delete(not_running, [a])).

bad_input_never_reaches_the_log_test() ->
    with_store(api5, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        Before = engine_log_index(S),
        ?assertError(?khepri_exception(invalid_path, #{path := foo}),
                     khepri:put(S, foo, 1)),
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:put(S, [a, {tuple}], 1)),
        ?assertError(?khepri_exception(invalid_path, _), khepri:get(S, 42)),
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:delete(S, [a | b])),
        ?assertError(?khepri_exception(possibly_matching_many_nodes_denied,
                                       #{path := [a, ?KHEPRI_WILDCARD_STAR]}),
                     khepri:put(S, "/:a/*", 1)),
        ?assertError(?khepri_exception(invalid_option,
                                       #{option := cluster_name, value := "x"}),
                     khepri:start("/tmp", #{cluster_name => "x"})),
        ?assertError(?khepri_exception(possibly_matching_many_nodes_denied, _),
                     khepri:delete(S, [?KHEPRI_WILDCARD_STAR])),
        ?assertError(?khepri_exception(invalid_option,
                                       #{option := bogus, value := 1}),
                     khepri:put(S, [a], 2, #{bogus => 1})),
        ?assertError(?khepri_exception(invalid_option,
                                       #{option := timeout, value := -1}),
                     khepri:get(S, [a], #{timeout => -1})),
        ?assertError(?khepri_exception(invalid_payload, _),
                     khepri:put(S, [a], {p_sproc, not_a_fun, rw})),
        %% a store id must be an atom
        ?assertError(function_clause, khepri:get("s", [a], #{})),
        ?assertError(function_clause, khepri:start("/tmp", "s", 1000)),
        ?assertEqual(Before, engine_log_index(S)),
        ?assertEqual({ok, 1}, khepri:get(S, [a]))
    end).

data_dir_that_cannot_be_created_test() ->
    Base = tmp_dir("notadir"),
    File = filename:join(Base, "file"),
    ok = file:write_file(File, <<"x">>),
    Dir = filename:join(File, "sub"),
    ?assertMatch({error, {cannot_create_data_dir, _, _}}, khepri:start(Dir, api6)),
    ?assertEqual({error, noproc}, khepri:get(api6, [a])),
    _ = file:del_dir_r(Base).

unknown_ra_system_test() ->
    ?assertEqual({error, ?khepri_error(unknown_ra_system, #{ra_system => nope})},
                 khepri:start(nope, api7)).

info_prints_the_tree_test() ->
    with_store(api8, fun(S, _) ->
        ok = khepri:put(S, [x, <<"y">>], #{v => 1}),
        ?assertEqual(ok, khepri:info(S))
    end).

concurrent_writers_all_acknowledged_test_() ->
    {timeout, 60, fun() ->
        with_store(api9, fun(S, _) ->
            Me = self(),
            Pids = [spawn_link(fun() ->
                                   [ok = khepri:put(S, [c, integer_to_binary(W), integer_to_binary(N)], N)
                                    || N <- lists:seq(1, 200)],
                                   Me ! {done, self()}
                               end) || W <- lists:seq(1, 20)],
            [receive {done, P} -> ok after 30000 -> error(timeout) end || P <- Pids],
            [?assertEqual({ok, 200}, khepri:get(S, [c, integer_to_binary(W), <<"200">>]))
             || W <- lists:seq(1, 20)]
        end)
    end}.

%% Write results are built on an engine thread: a large one must not go
%% through the VM's map construction there (it crashed past ~128 keys).
large_adv_results_test_() ->
    {timeout, 60, fun() ->
        with_store(api10, fun(S, _) ->
            [ok = khepri:put(S, [p, integer_to_binary(I)], I) || I <- lists:seq(1, 5000)],
            {ok, Put} = khepri_adv:put_many(S, [p, ?KHEPRI_WILDCARD_STAR], x),
            ?assertEqual(5000, map_size(Put)),
            {ok, Del} = khepri_adv:delete(S, [p]),
            ?assertEqual(5001, map_size(Del)),
            ?assertMatch(#{[p, <<"42">>] := #{data := x, delete_reason := explicit}}, Del)
        end)
    end}.

absurd_input_is_refused_not_crashed_on_test() ->
    with_store(api11, fun(S, _) ->
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:put(S, [deep | lists:duplicate(5000, a)], 1)),
        ?assertError(?khepri_exception(invalid_option, #{option := timeout}),
                     khepri:put(S, [a], 1, #{timeout => 1 bsl 32})),
        ?assertError(?khepri_exception(invalid_option, #{option := props_to_return}),
                     khepri:get(S, [a], #{props_to_return => [payload | x]})),
        ?assertError(function_clause, khepri:fold(S, [a], not_a_fun, acc)),
        ?assertError(?khepri_exception(invalid_option, #{option := machine_config}),
                     khepri:start("/tmp", #{cluster_name => api11b, machine_config => x})),
        ?assertMatch({error, {invalid_data_dir, _}}, khepri:start("/tmp/" ++ [-1], api11c)),
        ok = khepri:put(S, [still, fine], 1),
        ?assertEqual({ok, 1}, khepri:get(S, [still, fine]))
    end).

%% SPEC 5d.10: any atom is a node id, also beyond Latin-1 (which is all the
%% OTP 25 NIF API reads and makes directly).
unicode_node_ids_test() ->
    with_store(api12, fun(S, _) ->
        A = binary_to_atom(<<"中文"/utf8>>, utf8),
        ok = khepri:put(S, [A, <<"é"/utf8>>], 1),
        ?assertEqual({ok, 1}, khepri:get(S, "/:中文/é")),
        ?assertEqual({ok, #{[A, <<"é"/utf8>>] => 1}},
                     khepri:get_many(S, [A, ?KHEPRI_WILDCARD_STAR])),
        ?assertMatch({error, ?khepri_error(node_not_found, #{node_path := [A, zz]})},
                     khepri:get(S, [A, zz]))
    end).
