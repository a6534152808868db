%% @doc Projections kept in step with the tree (SPEC 4.7) on one member:
%% each kind of projection, under random churn, holds exactly what a
%% projection recomputed from the tree holds, after every write (read your
%% writes through ETS), after a restart and after re-registration. A
%% projection fun that crashes on some records does not stop the others.
-module(khepri_projection_sync_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-export([projections/0, recompute/2, tables/0, churn/3]).

-import(khepri_test_helpers, [with_store/2, tmp_dir/1]).

-define(KEYS, 12).

registration_test() ->
    with_store(proj_reg, fun(S, _) ->
        ok = khepri:put(S, [p, a], {a, 1}),
        Copy = khepri_projection:new(proj_reg_copy, copy),
        ?assertEqual(false, khepri:has_projection(S, proj_reg_copy)),
        ?assertEqual(ok, khepri:register_projection(S, [p, ?KHEPRI_WILDCARD_STAR], Copy)),
        %% filled from the tree as it was
        ?assertEqual([{a, 1}], ets:tab2list(proj_reg_copy)),
        ?assert(khepri:has_projection(S, proj_reg_copy)),
        ?assert(khepri:has_projection(S, proj_reg_copy, #{favor => consistency})),
        ?assertEqual({error, ?khepri_error(projection_already_exists,
                                           #{name => proj_reg_copy})},
                     khepri:register_projection(S, [q], Copy)),
        %% protected, owned by the store process
        ?assertEqual(protected, ets:info(proj_reg_copy, protection)),
        ?assertEqual(whereis(S), ets:info(proj_reg_copy, owner)),
        ?assertEqual({ok, #{proj_reg_copy => [p, ?KHEPRI_WILDCARD_STAR]}},
                     khepri_adv:unregister_projections(S, [proj_reg_copy, unknown])),
        ?assertEqual(undefined, ets:info(proj_reg_copy)),
        ?assertEqual(false, khepri:has_projection(S, proj_reg_copy)),
        ?assertEqual(ok, khepri:unregister_projections(S, all)),
        %% bad input never reaches the log
        Index = khepri_test_helpers:engine_log_index(S),
        ?assertError(?khepri_exception(invalid_projection, _),
                     khepri:register_projection(S, [p], not_a_projection)),
        ?assertError(?khepri_exception(invalid_path, _),
                     khepri:register_projection(S, [p, 1], Copy)),
        ?assertError(?khepri_exception(invalid_projection_names, _),
                     khepri:unregister_projections(S, [<<"name">>])),
        ?assertError(?khepri_exception(invalid_option, _),
                     khepri:register_projection(S, [p], Copy, #{bad => 1})),
        ?assertEqual(Index, khepri_test_helpers:engine_log_index(S))
    end).

%% Every write is visible in every projection when its call returns, and
%% the projections equal what the tree says, through a restart too.
churn_matches_recomputed_projections_test_() ->
    {timeout, 120, fun() ->
        Dir = tmp_dir("proj_churn"),
        S = proj_churn,
        {ok, S} = khepri:start(Dir, S),
        try
            ok = khepri:put(S, [c, k0], {[c, k0], 0}),
            [ok = khepri:register_projection(S, Pattern, P) || {Pattern, P} <- projections()],
            rand:seed(exsss, {1, 2, 3}),
            churn(S, 600, fun() -> assert_in_step(S) end),
            ok = khepri:stop(S),
            {ok, S} = khepri:start(Dir, S),
            assert_in_step(S),
            churn(S, 100, fun() -> assert_in_step(S) end),
            %% dropped and registered again: filled from the current tree
            ok = khepri:unregister_projections(S, all),
            [?assertEqual(undefined, ets:info(T)) || T <- tables()],
            [ok = khepri:register_projection(S, Pattern, P) || {Pattern, P} <- projections()],
            assert_in_step(S)
        after
            _ = khepri:stop(S),
            _ = file:del_dir_r(Dir)
        end
    end}.

%% Batches larger than one NIF call handles (512 effects taken, 256
%% writers answered per call): a subtree delete removing 1500 projected
%% nodes in one command, and 600 writers at once; every caller sees the
%% projection in step when its call returns.
large_batches_test_() ->
    {timeout, 60, fun() ->
        with_store(proj_large, fun(S, _) ->
            Copy = khepri_projection:new(proj_large, copy, #{keypos => 1}),
            ok = khepri:register_projection(S, [big, ?KHEPRI_WILDCARD_STAR], Copy),
            ok = khepri:put_many(S, [seed], 0),
            Keys = lists:seq(1, 1500),
            [ok = khepri:put(S, [big, integer_to_binary(K)], {K, x}) || K <- Keys],
            ?assertEqual(1500, ets:info(proj_large, size)),
            ok = khepri:delete(S, [big]),
            ?assertEqual(0, ets:info(proj_large, size)),
            Parent = self(),
            Writers = [spawn_link(fun() ->
                                          receive go -> ok end,
                                          ok = khepri:put(S, [big, integer_to_binary(K)], {K, y}),
                                          %% its own write is there when put returns
                                          [{K, y}] = ets:lookup(proj_large, K),
                                          Parent ! {written, self()}
                                  end) || K <- lists:seq(1, 600)],
            [W ! go || W <- Writers],
            [receive {written, W} -> ok after 30000 -> error({writer_stuck, W}) end
             || W <- Writers],
            ?assertEqual(600, ets:info(proj_large, size))
        end)
    end}.

%% Filling a new projection builds every match in the store process's
%% heap; the store gives that memory back once the tables are filled.
fill_memory_is_given_back_test_() ->
    {timeout, 60, fun() ->
        with_store(proj_fill, fun(S, _) ->
            Parent = self(),
            Writers = [spawn_link(fun() ->
                                          [begin
                                               K = integer_to_binary(W * 1000 + I),
                                               ok = khepri:put(S, [many, K], {K, W})
                                           end || I <- lists:seq(1, 200)],
                                          Parent ! {filled, self()}
                                  end) || W <- lists:seq(1, 100)],
            [receive {filled, W} -> ok after 30000 -> error({writer_stuck, W}) end
             || W <- Writers],
            Copy = khepri_projection:new(proj_fill, copy),
            ok = khepri:register_projection(S, [many, ?KHEPRI_WILDCARD_STAR], Copy),
            ?assertEqual(20000, ets:info(proj_fill, size)),
            %% About 90 words a node while filling; a few hundred after.
            {total_heap_size, Words} = process_info(whereis(S), total_heap_size),
            ?assert(Words < 100000)
        end)
    end}.

%% A simple fun crashing on some records: logged, the write succeeds, the
%% other projections and later records are still projected.
crashing_projection_fun_test() ->
    with_store(proj_crash, fun(S, _) ->
        Fragile = khepri_projection:new(proj_fragile,
                                        fun(_Path, {boom, _}) -> error(boom);
                                           (Path, Data) -> {Path, Data}
                                        end),
        Copy = khepri_projection:new(proj_sturdy, copy),
        ok = khepri:register_projection(S, [f, ?KHEPRI_WILDCARD_STAR], Fragile),
        ok = khepri:register_projection(S, [f, ?KHEPRI_WILDCARD_STAR], Copy),
        ?assertEqual(ok, khepri:put(S, [f, a], {boom, 1})),
        ?assertEqual(ok, khepri:put(S, [f, b], {fine, 2})),
        %% copy needs a tuple: a plain term fails there, not elsewhere
        ?assertEqual(ok, khepri:put(S, [f, c], 3)),
        ?assertEqual([{[f, b], {fine, 2}}, {[f, c], 3}],
                     lists:sort(ets:tab2list(proj_fragile))),
        ?assertEqual([{boom, 1}, {fine, 2}], lists:sort(ets:tab2list(proj_sturdy))),
        ?assertEqual({ok, 3}, khepri:get(S, [f, c]))
    end).

%% -------------------------------------------------------------------
%% Helpers, shared with the cluster suite.
%% -------------------------------------------------------------------

%% @doc The projections under test: a copy, a simple fun, and an extended
%% fun over two tables, each on `[c, ...]'. The extended fun follows what
%% changes produce events (SPEC 4.6: a parent gaining a child is not one).
projections() ->
    Any = ?KHEPRI_WILDCARD_STAR_STAR,
    Copy = khepri_projection:new(proj_copy, copy, #{keypos => 1}),
    Simple = khepri_projection:new(proj_simple, fun(Path, Data) -> {Path, Data} end,
                                   #{type => ordered_set}),
    Extended = khepri_projection:new(
                 proj_ext,
                 fun(#{proj_ext_versions := V, proj_ext_data := C}, Path, _Old, New) ->
                         case New of
                             #{payload_version := PV} ->
                                 ets:insert(V, {Path, PV}),
                                 ets:insert(C, {Path, maps:get(data, New, none)});
                             _ ->
                                 ets:delete(V, Path),
                                 ets:delete(C, Path)
                         end
                 end,
                 #{tables => #{proj_ext_versions => #{}, proj_ext_data => #{}}}),
    [{[c, Any], Copy}, {[c, Any], Simple}, {[c, Any], Extended}].

%% @doc The tables of `projections/0'.
tables() ->
    [proj_copy, proj_simple, proj_ext_versions, proj_ext_data].

%% @doc What each table of `projections/0' must hold, from the tree.
recompute(S, Table) ->
    {ok, Nodes} = khepri_adv:get_many(S, [c, ?KHEPRI_WILDCARD_STAR_STAR],
                                      #{props_to_return => [payload, payload_version,
                                                            child_list_length]}),
    lists:sort(
      [Record || {Path, Props} <- maps:to_list(Nodes),
                 Record <- record(Table, Path, Props)]).

record(proj_copy, _Path, #{data := Data}) -> [Data];
record(proj_simple, Path, #{data := Data}) -> [{Path, Data}];
record(proj_ext_versions, Path, #{payload_version := V}) -> [{Path, V}];
record(proj_ext_data, Path, Props) -> [{Path, maps:get(data, Props, none)}];
record(_, _, _) -> [].

assert_in_step(S) ->
    [?assertEqual({Table, recompute(S, Table)}, {Table, lists:sort(ets:tab2list(Table))})
     || Table <- tables()],
    ok.

%% @doc `N' random writes on `[c, ...]' (puts, creates, updates, deletes of
%% subtrees, keep_while cascades, payload clears, transactions), calling
%% `After()' after each.
churn(S, N, After) ->
    lists:foreach(fun(_) -> ok = churn_one(S), After() end, lists:seq(1, N)).

churn_one(S) ->
    K = key(),
    Data = {[c | K], rand:uniform(1000)},
    Result = case rand:uniform(9) of
                 1 -> khepri:delete(S, [c, hd(K)]);
                 2 -> khepri:delete(S, [c | K]);
                 3 -> khepri:create(S, [c | K], Data);
                 4 -> khepri:clear_payload(S, [c | K]);
                 5 -> khepri:put(S, [c | K], Data,
                                 #{keep_while => #{[c, k0] => #if_node_exists{exists = true}}});
                 6 -> khepri:delete(S, [c, k0]);
                 7 -> khepri:transaction(
                        S, fun() ->
                                   ok = khepri_tx:put([c | K], Data),
                                   K2 = key(),
                                   khepri_tx:delete([c | K2])
                           end);
                 _ -> khepri:put(S, [c | K], Data)
             end,
    case Result of
        ok -> ok;
        {ok, _} -> ok;
        {error, ?khepri_error(_, _)} -> ok
    end.

key() ->
    First = list_to_atom("k" ++ integer_to_list(rand:uniform(?KEYS) - 1)),
    case rand:uniform(3) of
        1 -> [First];
        _ -> [First, integer_to_binary(rand:uniform(4))]
    end.
