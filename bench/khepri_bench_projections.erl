%% @doc The projections phase of the bench suite (issue 6 figures): put
%% throughput at 100 writers without and with three projections fed by
%% every write, alternated twice so that the disk's drift weighs on both,
%% and lookups in a projection table against a plain ETS table holding the
%% same records with the same options.
-module(khepri_bench_projections).

-export([run/3, section/1]).

-define(WRITERS, 100).

%% @doc The rows of the phase. `Measure' is `khepri_bench:measure/6'.
run(Measure, StoreId, O) ->
    Seq = atomics:new(1, []),
    Put = fun(Projections, Round) ->
                  Measure(khepri, proj_put,
                          [{conc, ?WRITERS}, {projections, Projections}, {round, Round}],
                          O, ?WRITERS,
                          fun() ->
                                  N = atomics:add_get(Seq, 1, 1),
                                  Name = <<"q-", (integer_to_binary(N))/binary>>,
                                  ok = khepri:put(StoreId, [bench_proj, Name],
                                                  {queue, Name, N})
                          end)
          end,
    Rounds = lists:append(
               [begin
                    Without = Put(0, R),
                    ok = register(StoreId),
                    With = Put(3, R),
                    ok = khepri:unregister_projections(StoreId, all),
                    [Without, With]
                end || R <- [1, 2]]),
    ok = register(StoreId),
    %% The same records, the same options, in a table of our own, inserted
    %% in the order the projection was filled (tree order): insertion order
    %% decides memory locality, which showed as a 9% difference.
    Plain = ets:new(bench_plain, [named_table, set, {keypos, 2}, {read_concurrency, true}]),
    true = ets:insert(Plain, lists:keysort(2, ets:tab2list(bench_proj_by_name))),
    Keys = list_to_tuple([K || {queue, K, _} <- ets:tab2list(Plain)]),
    Lookup = fun(Table, Round) ->
                     Measure(khepri, proj_lookup, [{conc, 1}, {table, Table}, {round, Round}],
                             O, 1,
                             fun() ->
                                     K = element(rand:uniform(tuple_size(Keys)), Keys),
                                     [_] = ets:lookup(Table, K),
                                     ok
                             end)
             end,
    Lookups = lists:append([[Lookup(bench_proj_by_name, R), Lookup(bench_plain, R)]
                            || R <- [1, 2]]),
    ets:delete(Plain),
    ok = khepri:unregister_projections(StoreId, all),
    Rounds ++ Lookups.

register(StoreId) ->
    Pattern = [bench_proj, {if_name_matches, any, undefined}],
    [ok = khepri:register_projection(StoreId, Pattern, P)
     || P <- [khepri_projection:new(bench_proj_by_name, copy,
                                    #{keypos => 2, read_concurrency => true}),
              khepri_projection:new(bench_proj_sorted, copy,
                                    #{keypos => 2, type => ordered_set}),
              khepri_projection:new(bench_proj_numbers,
                                    fun(_Path, {queue, Name, N}) -> {N, Name} end)]],
    ok.

%% @doc The report section, from the rows of `run/3'.
section(Rows) ->
    Puts = [{P, Fs} || {khepri, proj_put, P, Fs} <- Rows],
    Lookups = [{P, Fs} || {khepri, proj_lookup, P, Fs} <- Rows],
    case Puts of
        [] -> [];
        _ ->
            ["## projections (khepri-rs only)\n\n"
             "put at 100 writers of fresh keys `[bench_proj, Name]`, alternately "
             "without and with three projections registered on them (a `copy` "
             "set with `keypos => 2`, a `copy` ordered_set, a simple fun), each "
             "write updating all three tables before it returns; then 1 client "
             "doing `ets:lookup/2` of random keys in the `copy` projection's "
             "table and in a plain ETS table with the same records and "
             "options.\n\n"
             "| workload | round | projections / table | ops/s | p50 µs | p99 µs |\n"
             "|---|---:|---|---:|---:|---:|\n",
             [line("put, 100 writers", proplists:get_value(round, P),
                   integer_to_list(proplists:get_value(projections, P)), Fs)
              || {P, Fs} <- Puts],
             [line("ets:lookup, 1 client", proplists:get_value(round, P),
                   atom_to_list(proplists:get_value(table, P)), Fs)
              || {P, Fs} <- Lookups],
             "\n"]
    end.

line(What, Round, Which, Fs) ->
    io_lib:format("| ~s | ~b | ~s | ~s | ~s | ~s |~n",
                  [What, Round, Which, num(ops_s, Fs, 0), num(p50_us, Fs, 1),
                   num(p99_us, Fs, 1)]).

num(Key, Fs, Decimals) ->
    case proplists:get_value(Key, Fs) of
        V when is_number(V) -> float_to_list(float(V), [{decimals, Decimals}]);
        _ -> "–"
    end.
