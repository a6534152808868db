%% @doc Transactions (SPEC 4.5, 5a): the proofs of issue 4 and the API's
%% return and error terms, on one member.
-module(khepri_tx_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").
-include("khepri_test.hrl").

-import(khepri_test_helpers, [with_store/2, as_default_store/2, engine_log_index/1]).

%% --- (a) 20 processes, 500 increments each, on 5 shared counters.

concurrent_increments_are_serializable_test_() ->
    {timeout, 120, fun concurrent_increments/0}.

concurrent_increments() ->
    with_store(tx_a, fun(S, _) ->
        Counters = 5,
        [ok = khepri:put(S, [ctr, integer_to_binary(C)], 0) || C <- lists:seq(1, Counters)],
        Parent = self(),
        Workers = [spawn_link(fun() -> Parent ! {self(), increments(S, Counters, 500)} end)
                   || _ <- lists:seq(1, 20)],
        Seen = lists:append([receive {W, Got} -> Got end || W <- Workers]),
        %% 10,000 commits in all; every counter holds its own commit count.
        ?assertEqual(20 * 500, length(Seen)),
        lists:foreach(
          fun(C) ->
                  Values = [N || {C1, N} <- Seen, C1 =:= C],
                  %% each {ok, N} seen is unique for its counter...
                  ?assertEqual(length(Values), length(lists:usort(Values))),
                  %% ...and the final value is the number of increments.
                  ?assertEqual({ok, length(Values)}, khepri:get(S, [ctr, integer_to_binary(C)]))
          end, lists:seq(1, Counters))
    end).

increments(S, Counters, N) ->
    [begin
         C = rand:uniform(Counters),
         {ok, V} = khepri:transaction(
                     S, fun() ->
                                {ok, Old} = khepri_tx:get([ctr, integer_to_binary(C)]),
                                ok = khepri_tx:put([ctr, integer_to_binary(C)], Old + 1),
                                Old + 1
                        end),
         {C, V}
     end || _ <- lists:seq(1, N)].

%% --- (b) The bank: transfers keep the total at every consistent read.

bank_total_is_invariant_test_() ->
    {timeout, 120, fun bank/0}.

bank() ->
    with_store(tx_b, fun(S, _) ->
        Accounts = 10,
        [ok = khepri:put(S, [bank, integer_to_binary(A)], 100) || A <- lists:seq(1, Accounts)],
        Total = 100 * Accounts,
        Parent = self(),
        Tellers = [spawn_link(fun() -> transfers(S, Accounts, 300), Parent ! {self(), done} end)
                   || _ <- lists:seq(1, 8)],
        Auditor = spawn_link(fun() -> Parent ! {self(), audit(S, Total, Tellers, 0)} end),
        [receive {T, done} -> ok end || T <- Tellers],
        Auditor ! stop,
        Audits = receive {Auditor, Count} -> Count end,
        ?assert(Audits > 0),
        ?assertEqual(Total, sum(S, Accounts)),
        %% Money never went negative: a transfer checks the balance it read.
        {ok, Balances} = khepri:get_many(S, [bank, ?KHEPRI_WILDCARD_STAR]),
        ?assert(lists:all(fun(B) -> B >= 0 end, maps:values(Balances)))
    end).

transfers(S, Accounts, N) ->
    lists:foreach(
      fun(_) ->
              From = rand:uniform(Accounts),
              To = rand:uniform(Accounts),
              Amount = rand:uniform(30),
              Result = khepri:transaction(
                         S, fun() ->
                                    {ok, A} = khepri_tx:get([bank, integer_to_binary(From)]),
                                    case A >= Amount of
                                        false ->
                                            khepri_tx:abort(insufficient_funds);
                                        true ->
                                            ok = khepri_tx:put([bank, integer_to_binary(From)], A - Amount),
                                            {ok, B} = khepri_tx:get([bank, integer_to_binary(To)]),
                                            ok = khepri_tx:put([bank, integer_to_binary(To)], B + Amount)
                                    end
                            end),
              true = lists:member(Result, [{ok, ok}, {error, insufficient_funds}])
      end, lists:seq(1, N)).

%% Reads every balance in one read-only transaction, again and again, while
%% the tellers run: each read is a consistent snapshot.
audit(S, Total, Tellers, Count) ->
    receive
        stop -> Count
    after 0 ->
        {ok, Sum} = khepri:transaction(
                      S, fun() ->
                                 {ok, M} = khepri_tx:get_many([bank, ?KHEPRI_WILDCARD_STAR]),
                                 lists:sum(maps:values(M))
                         end, ro),
        Total = Sum,
        audit(S, Total, Tellers, Count + 1)
    end.

sum(S, Accounts) ->
    lists:sum([V || A <- lists:seq(1, Accounts), {ok, V} <- [khepri:get(S, [bank, integer_to_binary(A)])]]).

%% --- (c) Aborts and exceptions leave the tree untouched.

abort_and_exception_commit_nothing_test() ->
    with_store(tx_c, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        Before = khepri_nif:dump(engine(S)),
        Index = engine_log_index(S),
        ?assertEqual({error, changed_my_mind},
                     khepri:transaction(S, fun() ->
                                                   ok = khepri_tx:put([a], 2),
                                                   ok = khepri_tx:put([b], 2),
                                                   khepri_tx:delete([a]),
                                                   khepri_tx:abort(changed_my_mind)
                                           end)),
        ?assertError(boom, khepri:transaction(S, fun() ->
                                                         ok = khepri_tx:put([a], 3),
                                                         erlang:error(boom)
                                                 end)),
        ?assertThrow(thrown, khepri:transaction(S, fun() ->
                                                           ok = khepri_tx:put([a], 4),
                                                           throw(thrown)
                                                   end)),
        ?assertExit(gone, khepri:transaction(S, fun() ->
                                                        ok = khepri_tx:put([a], 5),
                                                        exit(gone)
                                                end)),
        %% A misuse error inside the fun is re-raised with class error.
        ?assertRaise(?EX(denied_update_in_readonly_tx, #{}),
                     khepri:transaction(S, fun() -> khepri_tx:put([a], 6) end, ro)),
        ?assertEqual(Before, khepri_nif:dump(engine(S))),
        ?assertEqual(Index, engine_log_index(S))
    end).

%% --- (d) A transaction that only reads leaves no log entry.

read_only_transactions_do_not_touch_the_log_test() ->
    with_store(tx_d, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        Index = engine_log_index(S),
        ?assertEqual({ok, {ok, 1}}, khepri:transaction(S, fun() -> khepri_tx:get([a]) end)),
        ?assertEqual({ok, true}, khepri:transaction(S, fun() -> khepri_tx:exists([a]) end, rw)),
        ?assertEqual({ok, {ok, #{[a] => 1}}},
                     khepri:transaction(S, fun() -> khepri_tx:get_many("*") end, auto)),
        ?assertEqual({ok, 7}, khepri:transaction(S, fun() -> 7 end, ro)),
        ?assertEqual(Index, engine_log_index(S)),
        %% one that writes adds exactly one entry, however many writes
        {ok, ok} = khepri:transaction(S, fun() ->
                                                 [ok = khepri_tx:put([n, integer_to_binary(I)], I)
                                                  || I <- lists:seq(1, 10)],
                                                 ok
                                         end),
        ?assertEqual(Index + 1, engine_log_index(S))
    end).

%% --- (e) A transaction whose reads were invalidated runs again.

invalidated_read_runs_again_with_the_new_state_test() ->
    with_store(tx_e, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        Runs = counter(),
        %% The first run's read is invalidated by a write outside it, made
        %% while the fun runs; the second run sees that write.
        Fun = fun() ->
                      Run = bump(Runs),
                      {ok, V} = khepri_tx:get([a]),
                      ok = if Run =:= 1 -> khepri:put(S, [a], 10); true -> ok end,
                      ok = khepri_tx:put([b], V + 1),
                      {Run, V}
              end,
        ?assertEqual({ok, {2, 10}}, khepri:transaction(S, Fun)),
        ?assertEqual({ok, 11}, khepri:get(S, [b]))
    end).

recreated_node_fails_the_guard_test() ->
    with_store(tx_e2, fun(S, _) ->
        ok = khepri:put(S, [a], same),
        Runs = counter(),
        %% Same data, same versions after re-creation: only its identity
        %% tells it apart from the node the first run read.
        Fun = fun() ->
                      Run = bump(Runs),
                      {ok, same} = khepri_tx:get([a]),
                      Run =:= 1 andalso begin
                                            ok = khepri:delete(S, [a]),
                                            ok = khepri:put(S, [a], same)
                                        end,
                      ok = khepri_tx:put([b], Run),
                      Run
              end,
        ?assertEqual({ok, 2}, khepri:transaction(S, Fun))
    end).

new_match_of_a_pattern_read_fails_the_guard_test() ->
    with_store(tx_e3, fun(S, _) ->
        ok = khepri:put(S, [q, x], 1),
        Runs = counter(),
        Fun = fun() ->
                      Run = bump(Runs),
                      {ok, N} = khepri_tx:count([q, ?KHEPRI_WILDCARD_STAR]),
                      ok = if Run =:= 1 -> khepri:put(S, [q, y], 2); true -> ok end,
                      ok = khepri_tx:put([count], N),
                      N
              end,
        ?assertEqual({ok, 2}, khepri:transaction(S, Fun)),
        ?assertEqual(2, counter_value(Runs))
    end).

data_condition_match_appearing_fails_the_guard_test() ->
    with_store(tx_e4, fun(S, _) ->
        ok = khepri:put(S, [q, x], 1),
        ok = khepri:put(S, [q, y], 1),
        Runs = counter(),
        Big = #if_data_matches{pattern = '$1', conditions = [{'>', '$1', 5}]},
        Fun = fun() ->
                      Run = bump(Runs),
                      {ok, M} = khepri_tx:get_many([q, Big]),
                      %% an existing node starts to match: no child added
                      ok = if Run =:= 1 -> khepri:put(S, [q, y], 9); true -> ok end,
                      ok = khepri_tx:put([big], map_size(M)),
                      map_size(M)
              end,
        ?assertEqual({ok, 1}, khepri:transaction(S, Fun))
    end).

unrelated_writes_do_not_conflict_test() ->
    with_store(tx_e5, fun(S, _) ->
        ok = khepri:put(S, [q, x], 1),
        ok = khepri:put(S, [q, y], 1),
        Runs = counter(),
        %% Siblings created, updated or deleted beside what the run read do
        %% not invalidate it.
        Fun = fun() ->
                      Run = bump(Runs),
                      {ok, 1} = khepri_tx:get([q, x]),
                      Run =:= 1 andalso begin
                                            ok = khepri:put(S, [q, z], 1),
                                            ok = khepri:put(S, [q, y], 2),
                                            ok = khepri:delete(S, [q, z])
                                        end,
                      ok = khepri_tx:put([q, x], 2),
                      Run
              end,
        ?assertEqual({ok, 1}, khepri:transaction(S, Fun))
    end).

%% --- The API: shapes and errors.

reads_see_own_writes_test() ->
    with_store(tx_f, fun(S, _) ->
        Fun = fun() ->
                      {error, ?khepri_error(node_not_found, _)} = khepri_tx:get([a]),
                      ok = khepri_tx:put([a, b], 1),
                      {ok, 1} = khepri_tx:get([a, b]),
                      true = khepri_tx:exists([a]),
                      {ok, #{[a, b] := #{data := 1, payload_version := 1}}} =
                          khepri_tx_adv:get([a, b]),
                      {ok, #{[a, b] := #{data := 1, payload_version := 2}}} =
                          khepri_tx_adv:put([a, b], 2),
                      ok = khepri_tx:create([a, c], 3),
                      {error, ?khepri_error(mismatching_node, _)} = khepri_tx:create([a, c], 3),
                      {ok, 2} = khepri_tx:count([a, ?KHEPRI_WILDCARD_STAR]),
                      ok = khepri_tx:delete([a, c]),
                      false = khepri_tx:exists([a, c]),
                      false = khepri_tx:is_empty(),
                      {ok, 10} = khepri_tx:fold([a, ?KHEPRI_WILDCARD_STAR],
                                                fun(_, #{data := D}, Acc) -> Acc + D * 5 end,
                                                0),
                      done
              end,
        ?assertEqual({ok, done}, khepri:transaction(S, Fun)),
        ?assertEqual({ok, 2}, khepri:get(S, [a, b])),
        ?assertNot(khepri:exists(S, [a, c]))
    end).

every_argument_form_test() ->
    with_store(tx_g, fun(S, _) ->
        as_default_store(S, fun() ->
            F0 = fun() -> khepri_tx:put([x], 1), zero end,
            F1 = fun(A) -> khepri_tx:put([x], A), A end,
            ?assertEqual({ok, zero}, khepri:transaction(F0)),
            ?assertEqual({ok, zero}, khepri:transaction(S, F0)),
            ?assertEqual({ok, 5}, khepri:transaction(F1, [5])),
            ?assertEqual({ok, zero}, khepri:transaction(F0, rw)),
            ?assertEqual({ok, zero}, khepri:transaction(F0, #{timeout => 5000})),
            ?assertEqual({ok, 6}, khepri:transaction(S, F1, [6])),
            ?assertEqual({ok, zero}, khepri:transaction(S, F0, auto)),
            ?assertEqual({ok, zero}, khepri:transaction(S, F0, #{})),
            ?assertEqual({ok, 7}, khepri:transaction(F1, [7], rw)),
            ?assertEqual({ok, 8}, khepri:transaction(F1, [8], #{})),
            ?assertEqual({ok, zero}, khepri:transaction(F0, auto, #{})),
            ?assertEqual({ok, 9}, khepri:transaction(S, F1, [9], rw)),
            ?assertEqual({ok, 10}, khepri:transaction(S, F1, [10], #{})),
            ?assertEqual({ok, zero}, khepri:transaction(S, F0, rw, #{})),
            ?assertEqual({ok, 11}, khepri:transaction(F1, [11], rw, #{})),
            ?assertEqual({ok, 12}, khepri:transaction(S, F1, [12], auto, #{}))
        end)
    end).

misuse_errors_test() ->
    with_store(tx_h, fun(S, _) ->
        Index = engine_log_index(S),
        F1 = fun(_) -> ok end,
        ?assertRaise(?EX(denied_tx_fun_with_invalid_args,
                         #{'fun' => F1, arity => 1, args => []}),
                     khepri:transaction(S, F1)),
        ?assertRaise(?EX(denied_tx_fun_with_invalid_args,
                         #{'fun' => F1, arity => 1, args => [a, b]}),
                     khepri:transaction(S, F1, [a, b])),
        ?assertRaise(?EX(invalid_use_of_khepri_tx_outside_transaction, #{}),
                     khepri_tx:get([a])),
        ?assertRaise(?EX(invalid_use_of_khepri_tx_outside_transaction, #{}),
                     khepri_tx:put([a], 1)),
        ?assertRaise(?EX(invalid_use_of_khepri_tx_outside_transaction, #{}),
                     khepri_tx_adv:delete([a])),
        ?assertRaise(?EX(invalid_use_of_khepri_tx_outside_transaction, #{}),
                     khepri_tx:abort(x)),
        ?assertNot(khepri_tx:is_transaction()),
        ?assertEqual({ok, true}, khepri:transaction(S, fun khepri_tx:is_transaction/0)),
        %% a process spawned by the fun is outside the transaction
        ?assertEqual({ok, false},
                     khepri:transaction(S, fun() ->
                                                   Self = self(),
                                                   spawn(fun() -> Self ! khepri_tx:is_transaction() end),
                                                   receive B -> B after 5000 -> timeout end
                                           end)),
        ?assertRaise(?EX(invalid_option, #{option => timeout, value => soon}),
                     khepri:transaction(S, fun() -> ok end, #{timeout => soon})),
        ?assert(khepri_tx:does_api_comply_with(uniform_write_ret)),
        ?assertNot(khepri_tx:does_api_comply_with(something_else)),
        ?assertEqual(Index, engine_log_index(S))
    end).

non_fun_is_refused_test() ->
    with_store(tx_h2, fun(S, _) ->
        %% Not a fun: a path to a stored procedure, which is missing here.
        ?assertMatch({error, ?khepri_error(node_not_found, _)},
                     khepri:transaction(S, [no, such, sproc])),
        %% Neither a fun nor a path: the path is refused, nothing runs.
        ?assertError({khepri_ex, invalid_path, _}, khepri:transaction(S, 42)),
        ?assertError({khepri_ex, invalid_path, _}, khepri:transaction(S, {a, b}, [1])),
        ?assertError(function_clause, khepri:transaction(S, 42, 43, 44)),
        ?assertError(function_clause, khepri:transaction(S, fun() -> ok end, bad_mode)),
        %% the store keeps serving
        ?assertEqual({ok, 1}, khepri:transaction(S, fun() -> 1 end))
    end).

sproc_by_path_test() ->
    with_store(tx_i, fun(S, _) ->
        ok = khepri:put(S, [procs, add], fun(A, B) ->
                                                 ok = khepri_tx:put([sum], A + B),
                                                 A + B
                                         end),
        ok = khepri:put(S, [procs, data], 1),
        ?assertEqual({ok, 5}, khepri:transaction(S, [procs, add], [2, 3])),
        ?assertEqual({ok, 5}, khepri:get(S, [sum])),
        ?assertEqual({ok, 9}, khepri:transaction(S, "/:procs/:add", [4, 5])),
        ?assertEqual({error, ?khepri_error(sproc_invalid_as_tx_fun,
                                           #{path => [procs, add]})},
                     khepri:transaction(S, [procs, add], [1])),
        ?assertEqual({error, ?khepri_error(no_sproc_at_given_path,
                                           #{path => [procs, data]})},
                     khepri:transaction(S, [procs, data], [])),
        ?assertMatch({error, ?khepri_error(node_not_found, _)},
                     khepri:transaction(S, [procs, missing], []))
    end).

fun_outliving_its_timeout_commits_nothing_test() ->
    with_store(tx_j, fun(S, _) ->
        Index = engine_log_index(S),
        Fun = fun() ->
                      ok = khepri_tx:put([late], 1),
                      %% outlive the 100 ms timeout by waiting on a message
                      %% that never comes
                      receive never -> ok after 300 -> ok end
              end,
        ?assertEqual({error, timeout}, khepri:transaction(S, Fun, #{timeout => 100})),
        ?assertEqual(Index, engine_log_index(S)),
        ?assertNot(khepri:exists(S, [late])),
        %% the store keeps serving
        ?assertEqual(ok, khepri:put(S, [after_timeout], 1)),
        ?assertEqual({ok, 1}, khepri:get(S, [after_timeout]))
    end).

store_not_running_test() ->
    ?assertEqual({error, noproc}, khepri:transaction(not_running_store, fun() -> ok end)),
    ?assertEqual({error, noproc}, khepri:fence(not_running_store, 1000)).

nested_transaction_is_independent_test() ->
    with_store(tx_k, fun(S, _) ->
        Fun = fun() ->
                      ok = khepri_tx:put([outer], 1),
                      {ok, inner} = khepri:transaction(S, fun() ->
                                                                  ok = khepri_tx:put([inner], 1),
                                                                  inner
                                                          end),
                      %% back in the outer transaction
                      true = khepri_tx:is_transaction(),
                      {ok, 1} = khepri_tx:get([outer]),
                      outer
              end,
        ?assertEqual({ok, outer}, khepri:transaction(S, Fun)),
        ?assert(khepri:exists(S, [outer])),
        ?assert(khepri:exists(S, [inner]))
    end).

%% --- protect_against_dups: a resubmitted command is applied once.

resubmitted_command_is_applied_once_test() ->
    with_store(tx_l, fun(S, _) ->
        Engine = engine(S),
        Dedup = khepri_command:dedup(60000),
        Put = {put, [x], {data, term_to_binary(1)}, {[payload_version], undefined, true}},
        Submit = fun(Command) ->
                         Ref = make_ref(),
                         ok = khepri_nif:submit(Engine, Ref, Command),
                         khepri_command:await(Ref, khepri_command:deadline(5000))
                 end,
        First = Submit({once, Dedup, Put}),
        ?assertEqual({ok, #{[x] => #{payload_version => 1}}}, First),
        %% the same id again: the kept reply, no second application
        ?assertEqual(First, Submit({once, Dedup, Put})),
        ?assertMatch({ok, #{[x] := #{payload_version := 1}}},
                     khepri_adv:get(S, [x])),
        %% a new id applies again
        ?assertEqual({ok, #{[x] => #{payload_version => 1}}},
                     Submit({once, khepri_command:dedup(60000), Put})),
        ?assertMatch({ok, #{[x] := #{payload_version := 1}}}, khepri_adv:get(S, [x])),
        ?assertEqual(ok, khepri:put(S, [x], 2, #{protect_against_dups => true})),
        ?assertEqual({ok, 2}, khepri:get(S, [x]))
    end).

%% --- Async writes and transactions.

async_notifications_test() ->
    with_store(tx_m, fun(S, _) ->
        Node = node(),
        ?assertEqual(ok, khepri:put(S, [a], 1, #{async => 1})),
        Event1 = receive {ra_event, _, _} = E1 -> E1 after 5000 -> none end,
        ?assertEqual({ra_event, {S, Node}, {applied, [{1, {ok, #{[a] => #{}}}}]}}, Event1),
        ?assertEqual([{1, {ok, #{[a] => #{}}}}], khepri:handle_async_ret(S, Event1)),
        ?assertEqual(ok, khepri_adv:put(S, [a], 2, #{async => {2, low}})),
        Event2 = receive {ra_event, _, _} = E2 -> E2 after 5000 -> none end,
        ?assertEqual([{2, {ok, #{[a] => #{data => 1, payload_version => 2}}}}],
                     khepri:handle_async_ret(S, Event2)),
        %% no correlation: no notification
        ?assertEqual(ok, khepri:delete(S, [a], #{async => true})),
        ok = khepri:fence(S, 5000),
        ?assertNot(khepri:exists(S, [a])),
        %% transactions: the fun's value, an abort, an exception
        ?assertEqual(ok, khepri:transaction(S, fun() -> khepri_tx:put([t], 1), done end,
                                            #{async => 3})),
        ?assertEqual([{3, done}], handle_next(S)),
        ?assertEqual(ok, khepri:transaction(S, fun() -> khepri_tx:abort(no) end,
                                            #{async => 4})),
        ?assertEqual([{4, {error, no}}], handle_next(S)),
        ?assertEqual(ok, khepri:transaction(S, fun() -> erlang:error(bad) end,
                                            #{async => 5})),
        ?assertError(bad, handle_next(S)),
        %% a rejection
        ?assertEqual([{6, {error, {not_leader, undefined}}}],
                     khepri:handle_async_ret(
                       S, {ra_event, {S, Node}, {rejected, {not_leader, undefined, 6}}}))
    end).

handle_next(S) ->
    receive {ra_event, _, _} = E -> khepri:handle_async_ret(S, E) after 5000 -> none end.

async_notifications_are_batched_test() ->
    with_store(tx_n, fun(S, _) ->
        N = 1000,
        [ok = khepri:put(S, [k, integer_to_binary(I)], I, #{async => I}) || I <- lists:seq(1, N)],
        Messages = collect(N, []),
        Correlations = [C || M <- Messages, {C, {ok, _}} <- khepri:handle_async_ret(S, M)],
        %% every write notified once, in apply order (submission order here)
        ?assertEqual(lists:seq(1, N), Correlations),
        %% and in fewer messages than writes
        ?assert(length(Messages) < N)
    end).

collect(0, Acc) ->
    lists:reverse(Acc);
collect(Left, Acc) ->
    receive
        {ra_event, _, {applied, Replies}} = E -> collect(Left - length(Replies), [E | Acc])
    after 10000 ->
        erlang:error({missing_notifications, Left})
    end.

%% --- Read barriers.

consistent_reads_and_fences_test() ->
    with_store(tx_o, fun(S, _) ->
        ok = khepri:put(S, [a], 1),
        ?assertEqual(ok, khepri:fence(S, 5000)),
        ?assertEqual({ok, 1}, khepri:get(S, [a], #{favor => consistency})),
        ?assertEqual({ok, 1}, khepri:get(S, [a], #{favor => low_latency})),
        Applied = khepri_nif:applied_index(engine(S)),
        ?assertEqual({ok, 1}, khepri:get(S, [a], #{condition => {applied, {Applied, 1}}})),
        ?assertEqual({ok, #{[a] => 1}},
                     khepri:get_many(S, "*", #{favor => consistency})),
        ?assertEqual({ok, {ok, 1}},
                     khepri:transaction(S, fun() -> khepri_tx:get([a]) end,
                                        #{favor => consistency})),
        %% an index not reached in time
        ?assertEqual({error, timeout},
                     khepri:get(S, [a], #{condition => {applied, {Applied + 1000, 1}},
                                          timeout => 100}))
    end).

engine(S) ->
    {ok, Engine} = khepri_store:engine(S),
    Engine.

counter() ->
    counters:new(1, []).

bump(C) ->
    counters:add(C, 1, 1),
    counters:get(C, 1).

counter_value(C) ->
    counters:get(C, 1).
