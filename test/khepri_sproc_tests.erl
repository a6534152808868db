%% @doc `khepri:run_sproc/2,3,4' (SPEC 2.2, 5b): the stored fun runs in the
%% caller; nodes without a sproc and nodes that cannot be read are thrown
%% as SPEC's catalogue says.
-module(khepri_sproc_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-import(khepri_test_helpers, [with_store/2, as_default_store/2]).

runs_in_the_caller_test() ->
    with_store(sproc_caller, fun(S, _) ->
        ok = khepri:put(S, [add], fun(A, B) -> A + B end),
        ok = khepri:put(S, [self], fun() -> self() end),
        ?assertEqual(3, khepri:run_sproc(S, [add], [1, 2])),
        ?assertEqual(3, khepri:run_sproc(S, [add], [1, 2], #{})),
        ?assertEqual(self(), khepri:run_sproc(S, "/:self", [])),
        ?assert(khepri:is_sproc(S, [add]))
    end).

default_store_forms_test() ->
    with_store(sproc_default, fun(S, _) ->
        as_default_store(S, fun() ->
            ok = khepri:put([mul], fun(A, B) -> A * B end),
            ?assertEqual(6, khepri:run_sproc([mul], [2, 3])),
            ?assertEqual(6, khepri:run_sproc([mul], [2, 3], #{favor => consistency}))
        end)
    end).

errors_test() ->
    with_store(sproc_errors, fun(S, _) ->
        ok = khepri:put(S, [data], 42),
        ok = khepri:put(S, [add], fun(A, B) -> A + B end),
        ok = khepri:put(S, [abort], fun() -> khepri_tx:abort(no) end),
        %% a node without a sproc
        ?assertThrow(?khepri_exception(denied_execution_of_non_sproc_node,
                                       #{path := [data], args := [1],
                                         node_props := #{data := 42}}),
                     khepri:run_sproc(S, [data], [1])),
        %% a node that cannot be read
        ?assertThrow(?khepri_error(failed_to_get_sproc,
                                   #{path := [missing], args := [],
                                     error := ?khepri_error(node_not_found, _)}),
                     khepri:run_sproc(S, [missing], [])),
        %% the VM's own exceptions from the fun propagate
        ?assertError({badarity, _}, khepri:run_sproc(S, [add], [1])),
        %% arguments must be a proper list (the bad-input harness found a
        %% badarg from inside apply)
        ?assertError(function_clause, khepri:run_sproc(S, [add], [1 | 2])),
        ?assertError(?khepri_exception(invalid_use_of_khepri_tx_outside_transaction, _),
                     khepri:run_sproc(S, [abort], [])),
        %% a pattern is refused: one node is required
        ?assertError(?khepri_exception(possibly_matching_many_nodes_denied, _),
                     khepri:run_sproc(S, [?KHEPRI_WILDCARD_STAR], [])),
        ?assertEqual({error, noproc}, catch_noproc())
    end).

catch_noproc() ->
    try khepri:run_sproc(sproc_never_started, [f], [])
    catch throw:?khepri_error(failed_to_get_sproc, #{error := Reason}) -> {error, Reason}
    end.
