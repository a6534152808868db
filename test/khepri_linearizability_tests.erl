%% @doc The linearizability checker on histories known to be good or bad.
-module(khepri_linearizability_tests).

-include_lib("eunit/include/eunit.hrl").

-define(CHECK(H), khepri_linearizability:check(H)).

op(Invoke, Complete, Op, Result) ->
    op(k, Invoke, Complete, Op, Result).

op(Key, Invoke, Complete, Op, Result) ->
    #{key => Key, invoke => Invoke, complete => Complete, op => Op, result => Result}.

sequential_history_test() ->
    ?assertEqual(ok, ?CHECK([op(0, 1, get, not_found),
                             op(2, 3, {put, 1}, ok),
                             op(4, 5, get, {ok, 1}),
                             op(6, 7, {cas, 1, 2}, ok),
                             op(8, 9, {cas, 1, 3}, mismatch),
                             op(10, 11, get, {ok, 2})])).

stale_read_after_a_completed_put_is_a_violation_test() ->
    H = [op(0, 1, {put, 1}, ok), op(2, 3, get, not_found)],
    ?assertMatch({violation, k, _}, ?CHECK(H)).

reads_going_back_in_time_are_a_violation_test() ->
    %% put 1 then put 2, strictly one after the other; a reader sees 2 and
    %% then, later, 1 again.
    H = [op(0, 1, {put, 1}, ok), op(2, 3, {put, 2}, ok),
         op(4, 10, get, {ok, 2}), op(11, 12, get, {ok, 1})],
    ?assertMatch({violation, k, _}, ?CHECK(H)).

concurrent_operations_may_take_effect_in_either_order_test() ->
    %% A read overlapping a put may see the value before or after it.
    ?assertEqual(ok, ?CHECK([op(0, 1, {put, 1}, ok), op(2, 10, {put, 2}, ok),
                             op(3, 4, get, {ok, 1}), op(5, 6, get, {ok, 2})])),
    ?assertEqual(ok, ?CHECK([op(0, 10, {put, 1}, ok), op(1, 9, {put, 2}, ok),
                             op(11, 12, get, {ok, 1})])),
    ?assertEqual(ok, ?CHECK([op(0, 10, {put, 1}, ok), op(1, 9, {put, 2}, ok),
                             op(11, 12, get, {ok, 2})])).

overlapping_reads_must_agree_with_one_order_test() ->
    %% Two puts overlap; two later, strictly ordered reads see 1 then 2,
    %% fine; a third read after both sees 1 again: no order explains it.
    H = [op(0, 10, {put, 1}, ok), op(0, 10, {put, 2}, ok),
         op(11, 12, get, {ok, 1}), op(13, 14, get, {ok, 2}),
         op(15, 16, get, {ok, 1})],
    ?assertMatch({violation, k, _}, ?CHECK(H)).

cas_must_be_atomic_test() ->
    %% Two compare-and-swaps of the same expected value cannot both win.
    H = [op(0, 1, {put, 0}, ok),
         op(2, 5, {cas, 0, 1}, ok), op(2, 5, {cas, 0, 2}, ok)],
    ?assertMatch({violation, k, _}, ?CHECK(H)),
    ?assertEqual(ok, ?CHECK([op(0, 1, {put, 0}, ok),
                             op(2, 5, {cas, 0, 1}, ok),
                             op(2, 5, {cas, 0, 2}, mismatch),
                             op(6, 7, get, {ok, 1})])).

a_failed_cas_must_have_seen_another_value_test() ->
    H = [op(0, 1, {put, 0}, ok), op(2, 3, {cas, 0, 1}, mismatch)],
    ?assertMatch({violation, k, _}, ?CHECK(H)).

unknown_outcomes_may_or_may_not_take_effect_test() ->
    %% A timed-out put observed later, or never observed: both fine.
    ?assertEqual(ok, ?CHECK([op(0, infinity, {put, 1}, timeout),
                             op(5, 6, get, {ok, 1})])),
    ?assertEqual(ok, ?CHECK([op(0, infinity, {put, 1}, timeout),
                             op(5, 6, get, not_found)])),
    %% but it cannot take effect before it was invoked
    H = [op(0, 1, get, {ok, 1}), op(2, infinity, {put, 1}, timeout)],
    ?assertMatch({violation, k, _}, ?CHECK(H)),
    %% nor be seen, then unseen, once others wrote after it was seen
    H2 = [op(0, infinity, {put, 1}, timeout), op(1, 2, get, {ok, 1}),
          op(3, 4, {put, 2}, ok), op(5, 6, get, {ok, 1})],
    ?assertMatch({violation, k, _}, ?CHECK(H2)).

keys_are_checked_independently_test() ->
    Good = [op(a, 0, 1, {put, 1}, ok), op(b, 0, 1, {put, 2}, ok),
            op(a, 2, 3, get, {ok, 1}), op(b, 2, 3, get, {ok, 2})],
    ?assertEqual(ok, ?CHECK(Good)),
    Bad = Good ++ [op(b, 4, 5, get, not_found)],
    ?assertMatch({violation, b, _}, ?CHECK(Bad)).

many_concurrent_clients_stay_tractable_test() ->
    %% 8 clients, 40 rounds of overlapping puts and reads of one register,
    %% generated from a real serial order: linearizable, and checked fast.
    H = generated_history(8, 40),
    {Micros, Result} = timer:tc(fun() -> ?CHECK(H) end),
    ?assertEqual(ok, Result),
    ?assert(Micros < 10000000),
    %% changing one read's answer to a value never written breaks it
    [#{op := get} = First | _] = [O || #{op := get} = O <- H],
    Broken = [case O of First -> O#{result => {ok, never_written}}; _ -> O end || O <- H],
    ?assertMatch({violation, k, _}, ?CHECK(Broken)).

%% Each round, every client runs one operation; they all overlap, and are
%% applied in a random serial order, whose results they report.
generated_history(Clients, Rounds) ->
    rand:seed(exsss, {1, 2, 3}),
    {Ops, _} = lists:foldl(
                 fun(Round, {Acc, State}) ->
                         T0 = Round * 10,
                         Order = lists:sort([{rand:uniform(), C} || C <- lists:seq(1, Clients)]),
                         lists:foldl(
                           fun({_, C}, {Acc1, S}) ->
                                   case (C + Round) rem 3 of
                                       0 -> {[op(T0, T0 + 5, {put, {Round, C}}, ok) | Acc1],
                                             {ok, {Round, C}}};
                                       _ -> {[op(T0, T0 + 5, get, S) | Acc1], S}
                                   end
                           end, {Acc, State}, Order)
                 end, {[], not_found}, lists:seq(1, Rounds)),
    lists:reverse(Ops).
