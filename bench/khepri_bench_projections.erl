%% @doc The projections phase of the bench suite (issue 6 figures): put
%% throughput at 100 writers without and with three projections fed by
%% every write, in the order without, with, with, without,
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
    With = fun(Round) ->
                   ok = register(StoreId),
                   Row = Put(3, Round),
                   ok = khepri:unregister_projections(StoreId, all),
                   Row
           end,
    %% Without, with, with, without: every put makes the tree larger and
    %% the disk drifts, so each kind of run gets one earlier and one later
    %% place.
    Rounds = [Put(0, 1), With(1), With(2), Put(0, 2)],
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
    Floor = ets_floor(ets:info(bench_proj_by_name, size)),
    ok = khepri:unregister_projections(StoreId, all),
    Rounds ++ Lookups ++ [Floor].

%% What the three projections' table writes cost by themselves: the same
%% records inserted by one process into three tables of the same types and
%% options, first filled to the projections' size. No implementation can
%% make a projected put cheaper than this.
ets_floor(Size) ->
    Tables = [ets:new(floor_by_name, [set, {keypos, 2}, {read_concurrency, true}]),
              ets:new(floor_sorted, [ordered_set, {keypos, 2}]),
              ets:new(floor_numbers, [set])],
    Insert = fun(N) ->
                     Name = <<"floor-", (integer_to_binary(N))/binary>>,
                     [A, B, C] = Tables,
                     true = ets:insert(A, {queue, Name, N}),
                     true = ets:insert(B, {queue, Name, N}),
                     true = ets:insert(C, {N, Name})
             end,
    lists:foreach(Insert, lists:seq(1, Size)),
    Puts = 200000,
    T0 = erlang:monotonic_time(),
    lists:foreach(Insert, lists:seq(Size + 1, Size + Puts)),
    Us = erlang:convert_time_unit(erlang:monotonic_time() - T0, native, nanosecond) / 1000,
    lists:foreach(fun ets:delete/1, Tables),
    Row = {khepri, proj_ets_floor, [{table_size, Size}],
           [{us_per_put, Us / Puts}, {cores, erlang:system_info(schedulers_online)}]},
    khepri_bench:print(Row),
    Row.

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
             "put at 100 writers of fresh keys `[bench_proj, Name]`, in the order "
             "without, with, with, without three projections registered on them "
             "(each kind of run gets an earlier and a later place as the tree "
             "grows and the disk drifts; a `copy` "
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
             "\n",
             floor_text(Puts, [{P, Fs} || {khepri, proj_ets_floor, P, Fs} <- Rows])]
    end.

%% The least drop any implementation could show: a put without projections
%% costs Cores / ops_s of machine time at that throughput (the put path is
%% CPU-bound at 100 writers), and the inserts add their own cost to it.
floor_text(Puts, [{P, Fs} | _]) ->
    Without = [proplists:get_value(ops_s, F) || {Pp, F} <- Puts,
                                               proplists:get_value(projections, Pp) =:= 0],
    Ops = lists:sum(Without) / max(1, length(Without)),
    Ets = proplists:get_value(us_per_put, Fs),
    Put = proplists:get_value(cores, Fs) * 1.0e6 / max(1.0, Ops),
    io_lib:format(
      "The three table writes alone (the same records into three tables of the same "
      "types and options, first filled to ~b records, by one process) cost ~.2f µs "
      "per put. A put without projections takes ~.1f µs of machine time at the "
      "throughput above (~b cores / ~b ops/s), so no implementation could drop by "
      "less than ~.1f%.~n~n",
      [proplists:get_value(table_size, P), Ets, Put,
       proplists:get_value(cores, Fs), round(Ops), 100 * Ets / (Put + Ets)]);
floor_text(_Puts, []) ->
    [].

line(What, Round, Which, Fs) ->
    io_lib:format("| ~s | ~b | ~s | ~s | ~s | ~s |~n",
                  [What, Round, Which, num(ops_s, Fs, 0), num(p50_us, Fs, 1),
                   num(p99_us, Fs, 1)]).

num(Key, Fs, Decimals) ->
    case proplists:get_value(Key, Fs) of
        V when is_number(V) -> float_to_list(float(V), [{decimals, Decimals}]);
        _ -> "–"
    end.
