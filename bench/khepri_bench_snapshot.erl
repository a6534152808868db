%% @doc The snapshot phase of the bench suite (issue 7, part 1): put latency
%% at 10 writers while a snapshot of a large tree is being built, against
%% the same writers while none is.
%%
%% A store of its own is filled with `--snapshot-keys' keys (default
%% 1,000,000) and snapshotted once, so that the log of the fill is purged.
%% Its rules never snapshot by themselves (`snapshot_interval' 2^62,
%% `snapshot_time_interval' infinity): only the builds asked for here run.
%% Then 10 writers overwrite random keys without pause while the phase
%% alternates 2 s without a build and one build (`khepri_compaction:snapshot/1',
%% which returns once the snapshot is durable), `--snapshot-builds' times
%% (default 10). A write is counted "during a build" when any part of it
%% overlaps one: a generation counter, odd while a build runs, is read
%% before and after each write.
-module(khepri_bench_snapshot).

-export([run/1, section/1]).

-define(STORE, khepri_bench_snap).
-define(WRITERS, 10).
-define(FILL_CONC, 100).
-define(IDLE_MS, 2000).
-define(WARMUP_MS, 1000).

%% @doc The rows of the phase: the fill, puts outside and during builds,
%% and the builds.
run(#{base := Base} = O) ->
    Keys = maps:get(snapshot_keys, O),
    Builds = maps:get(snapshot_builds, O),
    Dir = filename:join(Base, "snapshot"),
    Config = #{cluster_name => ?STORE,
               machine_config => #{snapshot_interval => 1 bsl 62,
                                   snapshot_time_interval => infinity}},
    _ = application:load(khepri),
    ok = application:set_env(khepri, default_timeout, 30000),
    {ok, ?STORE} = khepri:start(Dir, Config),
    try
        Fill = khepri_bench:fill(khepri, snapshot_fill, [{keys, Keys}, {conc, ?FILL_CONC}],
                                 1, Keys, ?FILL_CONC, fun put/1),
        {ok, _} = khepri_compaction:snapshot(?STORE),
        [Fill | measure(Keys, Builds)]
    after
        ok = khepri:stop(?STORE),
        ok = application:unset_env(khepri, default_timeout),
        _ = file:del_dir_r(Dir)
    end.

put(N) ->
    ok = khepri:put(?STORE, [snap, <<"k", (integer_to_binary(N))/binary>>],
                    khepri_bench:payload(N)).

%% Writers run from the start to the end; the generation tells them which
%% histogram a write goes to (0: warmup, not counted).
measure(Keys, Builds) ->
    Gen = atomics:new(1, []),
    Stop = atomics:new(1, []),
    Self = self(),
    Ws = [spawn_monitor(fun() -> writer(Self, Keys, Gen, Stop) end)
          || _ <- lists:seq(1, ?WRITERS)],
    timer:sleep(?WARMUP_MS),
    ok = atomics:put(Gen, 1, 2),
    Cpu0 = khepri_bench:cpu(),
    Windows = [build(Gen) || _ <- lists:seq(1, Builds)],
    timer:sleep(?IDLE_MS),
    Cpu1 = khepri_bench:cpu(),
    ok = atomics:put(Stop, 1, 1),
    Results = [receive
                   {done, P, R} -> erlang:demonitor(Ref, [flush]), R;
                   {'DOWN', Ref, process, P, Why} -> erlang:error({writer_died, Why})
               after 60000 -> erlang:error(writer_stuck)
               end || {P, Ref} <- Ws],
    BuildMs = lists:sum([W || {W, _} <- Windows]),
    IdleMs = (Builds + 1) * ?IDLE_MS,
    Outside = khepri_bench:stats([B || {B, _} <- Results], IdleMs),
    During = khepri_bench:stats([D || {_, D} <- Results], BuildMs),
    Params = [{keys, Keys}, {conc, ?WRITERS}],
    Rows = [{khepri, snapshot_put, [{building, false} | Params], Outside},
            {khepri, snapshot_put, [{building, true} | Params], During}],
    Reports = [R || {_, R} <- Windows],
    Sorted = lists:sort([maps:get(build_us, R) / 1000 || R <- Reports]),
    Summary = {khepri, snapshot_build, [{keys, Keys}],
               [{builds, Builds},
                {build_ms_min, hd(Sorted)},
                {build_ms_median, lists:nth((length(Sorted) + 1) div 2, Sorted)},
                {build_ms_max, lists:last(Sorted)},
                {window_ms_mean, BuildMs / Builds},
                {snapshot_mib, maps:get(bytes, hd(Reports)) / (1 bsl 20)},
                {other_cpu_pct, khepri_bench:other_cpu_pct(Cpu0, Cpu1)},
                {p99_ratio, ratio(During, Outside)}]},
    [khepri_bench:print(R) || R <- Rows ++ [Summary]],
    Rows ++ [Summary].

ratio(During, Outside) ->
    case {proplists:get_value(p99_us, During), proplists:get_value(p99_us, Outside)} of
        {D, B} when is_number(D), is_number(B), B > 0 -> D / B;
        _ -> undefined
    end.

%% One idle period, then one build: its window (ms, as the caller saw it)
%% and the engine's report.
build(Gen) ->
    timer:sleep(?IDLE_MS),
    _ = atomics:add_get(Gen, 1, 1),
    T0 = erlang:monotonic_time(),
    {ok, Report} = khepri_compaction:snapshot(?STORE),
    T1 = erlang:monotonic_time(),
    _ = atomics:add_get(Gen, 1, 1),
    {khepri_bench:to_secs(T1 - T0) * 1000, Report}.

writer(Parent, Keys, Gen, Stop) ->
    Acc = fun() -> {khepri_bench:hist_new(), 0, 0, 0, none} end,
    {Outside, During} = wloop(Keys, Gen, Stop, Acc(), Acc()),
    Parent ! {done, self(), {Outside, During}}.

wloop(Keys, Gen, Stop, Outside, During) ->
    case atomics:get(Stop, 1) of
        1 ->
            {Outside, During};
        0 ->
            G1 = atomics:get(Gen, 1),
            T1 = erlang:monotonic_time(),
            Res = try put(rand:uniform(Keys)) of
                      ok -> ok
                  catch
                      C:R -> {C, R}
                  end,
            T2 = erlang:monotonic_time(),
            G2 = atomics:get(Gen, 1),
            if
                G1 =:= 0 ->
                    wloop(Keys, Gen, Stop, Outside, During);
                G1 rem 2 =:= 1; G2 =/= G1 ->
                    wloop(Keys, Gen, Stop, Outside, count(During, T2 - T1, Res));
                true ->
                    wloop(Keys, Gen, Stop, count(Outside, T2 - T1, Res), During)
            end
    end.

count({H, Max, Sum, Errs, First}, D, ok) ->
    ok = khepri_bench:hist_add(H, D),
    {H, max(Max, D), Sum + D, Errs, First};
count({H, Max, Sum, Errs, First}, _D, Err) ->
    {H, Max, Sum, Errs + 1, case First of none -> Err; _ -> First end}.

%% @doc The report section, from the rows of `run/1'.
section(Rows) ->
    Puts = [{proplists:get_value(building, P), P, Fs}
            || {khepri, snapshot_put, P, Fs} <- Rows],
    case {Puts, [Fs || {khepri, snapshot_build, _, Fs} <- Rows]} of
        {[_ | _], [B | _]} ->
            {_, P, _} = hd(Puts),
            Num = fun(K, Fs, D) -> khepri_bench:num(proplists:get_value(K, Fs), D) end,
            ["## put while a snapshot is built (khepri-rs only)\n\n",
             io_lib:format(
               "A store of ~b keys (payload as above), ~b writers overwriting "
               "random keys without pause. The store never snapshots by itself "
               "here; ~b times, after 2 s without a build, the phase asks for "
               "one (`khepri_compaction:snapshot/1`: the tree captured, "
               "encoded and written to a temporary file in 64 KiB chunks, "
               "fsynced, renamed, directory fsynced, the previous snapshot "
               "released) and waits for it. A put is counted \"during a "
               "build\" when any part of it overlaps one; the others count "
               "as without. The issue asks for p99 during at most 3 times "
               "p99 without.~n~n",
               [proplists:get_value(keys, P), proplists:get_value(conc, P),
                proplists:get_value(builds, B)]),
             "| puts | ops/s | p50 µs | p99 µs | max µs | n |\n"
             "|---|---:|---:|---:|---:|---:|\n",
             [io_lib:format("| ~s | ~ts | ~ts | ~ts | ~ts | ~ts |~n",
                            [case Building of
                                 true -> "during a build";
                                 false -> "no build"
                             end,
                             Num(ops_s, Fs, 0), Num(p50_us, Fs, 1),
                             Num(p99_us, Fs, 1), Num(max_us, Fs, 0), Num(n, Fs, 0)])
              || {Building, _, Fs} <- lists:keysort(1, Puts)],
             io_lib:format(
               "~np99 during / p99 without: **~ts×**. Build (tree captured to "
               "directory fsynced, as the engine timed it): median ~ts ms, "
               "min ~ts, max ~ts; window seen by the caller ~ts ms on average; "
               "snapshot file ~ts MiB. Other processes used ~ts% of the "
               "machine's CPU meanwhile.~n~n",
               [Num(p99_ratio, B, 2), Num(build_ms_median, B, 0),
                Num(build_ms_min, B, 0), Num(build_ms_max, B, 0),
                Num(window_ms_mean, B, 0), Num(snapshot_mib, B, 1),
                Num(other_cpu_pct, B, 1)])];
        _ ->
            []
    end.
