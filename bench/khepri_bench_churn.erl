%% @doc The churn phase of the bench suite (issue 7, part 6): a store under
%% a steady load of puts and deletes on a fixed key set, for 10 minutes by
%% default, in a fresh VM (`--churn-child', started by khepri_bench like the
%% memory phase) so that nothing else lives in it.
%%
%% The key set is `--churn-keys' keys (default 1,000,000), each present with
%% probability 1/2 at the start, as the load keeps it: `--churn-conc'
%% writers (default 10) each put or delete (even odds) a random key of the
%% set, back to back, so the tree's size is stationary from the start. The
%% store runs with its default snapshot rules. Every 5 s the phase samples
%% the VM's RSS (`VmRSS', NIF memory included), the log's and the
%% snapshot's bytes on disk and the builds so far. Growth is measured from
%% the end of the warm-up (`--churn-warmup-seconds', default 60): RSS at
%% the end and at its highest, against RSS then.
-module(khepri_bench_churn).

-export([child/1, child_args/1, max_ms/1, section/1]).

-define(STORE, khepri_bench_churn).
-define(SAMPLE_MS, 5000).
-define(FILL_CONC, 100).
%% The engine's log segment size.
-define(SEGMENT, (16 bsl 20)).

%% @doc The options a child VM is started with, from the parent's.
child_args(O) ->
    ["--churn-child",
     "--churn-seconds", integer_to_list(maps:get(churn_seconds, O)),
     "--churn-warmup-seconds", integer_to_list(maps:get(churn_warmup_seconds, O)),
     "--churn-keys", integer_to_list(maps:get(churn_keys, O)),
     "--churn-conc", integer_to_list(maps:get(churn_conc, O))].

%% @doc How long the parent waits for the child: the load, plus the fill,
%% start and stop.
max_ms(O) ->
    (maps:get(churn_seconds, O) + 600) * 1000.

%% @doc Child side: fill, churn, sample; returns the rows.
child(#{base := Base} = O) ->
    Secs = maps:get(churn_seconds, O),
    Warmup = min(maps:get(churn_warmup_seconds, O), Secs),
    Keys = maps:get(churn_keys, O),
    Conc = maps:get(churn_conc, O),
    Dir = filename:join(Base, "churn"),
    _ = application:load(khepri),
    ok = application:set_env(khepri, default_timeout, 30000),
    {ok, ?STORE} = khepri:start(Dir, ?STORE),
    try
        %% A fixed half of the keys, chosen at random once.
        Present = [N || N <- lists:seq(1, Keys), rand:uniform(2) =:= 1],
        Fill = fill(Present),
        Rows = churn(Dir, Keys, Conc, Secs, Warmup),
        [Fill | Rows]
    after
        ok = khepri:stop(?STORE),
        _ = file:del_dir_r(Dir)
    end.

fill(Present) ->
    Todo = list_to_tuple(Present),
    khepri_bench:fill(khepri, churn_fill, [{keys, tuple_size(Todo)}, {conc, ?FILL_CONC}],
                      1, tuple_size(Todo), ?FILL_CONC,
                      fun(I) -> put(element(I, Todo)) end).

key(N) -> [churn, <<"k", (integer_to_binary(N))/binary>>].

put(N) ->
    ok = khepri:put(?STORE, key(N), khepri_bench:payload(N)).

churn(Dir, Keys, Conc, Secs, Warmup) ->
    Ops = counters:new(2, []),
    Stop = atomics:new(1, []),
    Ws = [spawn_monitor(fun() -> writer(Keys, Ops, Stop) end) || _ <- lists:seq(1, Conc)],
    T0 = erlang:monotonic_time(millisecond),
    Cpu0 = khepri_bench:cpu(),
    Samples = sample(Dir, Ops, T0, T0 + Secs * 1000, []),
    Other = khepri_bench:other_cpu_pct(Cpu0, khepri_bench:cpu()),
    ok = atomics:put(Stop, 1, 1),
    [receive
         {'DOWN', Ref, process, Pid, normal} -> ok;
         {'DOWN', Ref, process, Pid, Why} -> erlang:error({writer_died, Why})
     after 60000 -> erlang:error(writer_stuck)
     end || {Pid, Ref} <- Ws],
    summary(Samples, Keys, Conc, Secs, Warmup, counters:get(Ops, 2), Other).

%% Put or delete a random key of the set, until told to stop. Errors are
%% counted, not fatal: the figure is memory, but errors are reported.
writer(Keys, Ops, Stop) ->
    case atomics:get(Stop, 1) of
        1 ->
            ok;
        0 ->
            N = rand:uniform(Keys),
            Res = try
                      case rand:uniform(2) of
                          1 -> put(N);
                          2 -> ok = khepri:delete(?STORE, key(N))
                      end
                  catch
                      _:_ -> error
                  end,
            counters:add(Ops, case Res of ok -> 1; error -> 2 end, 1),
            writer(Keys, Ops, Stop)
    end.

%% One sample every ?SAMPLE_MS until End, the first at T0.
sample(Dir, Ops, T0, End, Acc) ->
    Now = erlang:monotonic_time(millisecond),
    {ok, Info} = khepri_compaction:info(?STORE),
    S = #{t_s => (Now - T0) / 1000,
          rss => khepri_bench:rss_bytes(),
          ops => counters:get(Ops, 1),
          log_disk => khepri_bench:dir_bytes(filename:join([Dir, atom_to_list(?STORE), "log"])),
          snapshot => khepri_bench:dir_bytes(filename:join([Dir, atom_to_list(?STORE), "snapshot"])),
          builds => maps:get(builds, Info)},
    io:format("# churn t=~bs rss_mib=~.1f ops=~b log_mib=~.1f snapshot_mib=~.1f builds=~b~n",
              [round(maps:get(t_s, S)), mib(maps:get(rss, S)), maps:get(ops, S),
               mib(maps:get(log_disk, S)), mib(maps:get(snapshot, S)), maps:get(builds, S)]),
    case Now >= End of
        true ->
            lists:reverse([S | Acc]);
        false ->
            timer:sleep(max(0, min(?SAMPLE_MS - (Now - T0) rem ?SAMPLE_MS, End - Now))),
            sample(Dir, Ops, T0, End, [S | Acc])
    end.

mib(Bytes) -> Bytes / (1 bsl 20).

summary(Samples, Keys, Conc, Secs, Warmup, Errors, Other) ->
    After = [S || #{t_s := T} = S <- Samples, T >= Warmup],
    [Warm | _] = After,
    Last = lists:last(Samples),
    Rss = fun(#{rss := R}) -> R end,
    RssWarm = Rss(Warm),
    RssMax = lists:max([Rss(S) || S <- After]),
    Growth = fun(R) -> 100 * (R - RssWarm) / RssWarm end,
    Ratios = [{L / Sn, L, Sn} || #{log_disk := L, snapshot := Sn} <- Samples, Sn > 0],
    {WorstRatio, WorstLog, WorstSnap} = lists:max([{0.0, 0, 0} | Ratios]),
    %% Beyond the two segments of slack (the oldest, partly behind the
    %% snapshot, and the newest, preallocated): what the ratio rule bounds.
    Beyond = lists:max([0.0 | [max(0, L - 2 * ?SEGMENT) / Sn
                               || #{log_disk := L, snapshot := Sn} <- Samples, Sn > 0]]),
    Params = [{keys, Keys}, {conc, Conc}, {seconds, Secs}, {warmup_s, Warmup}],
    Row = {khepri, churn, Params,
           [{ops_s, maps:get(ops, Last) / maps:get(t_s, Last)},
            {rss_first_mib, mib(Rss(hd(Samples)))},
            {rss_warm_mib, mib(RssWarm)},
            {rss_max_mib, mib(RssMax)},
            {rss_end_mib, mib(Rss(Last))},
            {rss_growth_pct, Growth(Rss(Last))},
            {rss_max_growth_pct, Growth(RssMax)},
            {log_disk_max_mib, mib(lists:max([L || #{log_disk := L} <- Samples]))},
            {snapshot_max_mib, mib(lists:max([Sn || #{snapshot := Sn} <- Samples]))},
            {log_snapshot_ratio_max, WorstRatio},
            {log_beyond_segments_ratio_max, Beyond},
            {log_at_ratio_max_mib, mib(WorstLog)},
            {snapshot_at_ratio_max_mib, mib(WorstSnap)},
            {builds, maps:get(builds, Last)},
            {other_cpu_pct, Other},
            {errors, Errors}]},
    khepri_bench:print(Row),
    %% For the report, the first sample of each minute, and the last.
    Minutes = lists:ukeysort(1, [{T, S} || M <- lists:seq(0, Secs, 60),
                                          #{t_s := T} = S <- [first_at(M, Samples)]]
                             ++ [{maps:get(t_s, Last), Last}]),
    Series = {khepri, churn_series, [],
              [{samples, [{T, mib(R), mib(L), mib(Sn), B}
                          || {T, #{rss := R, log_disk := L, snapshot := Sn, builds := B}}
                                 <- Minutes]}]},
    [Row, Series].

first_at(T, [#{t_s := T1} = S | _]) when T1 >= T -> S;
first_at(_T, [S]) -> S;
first_at(T, [_ | Rest]) -> first_at(T, Rest).

%% @doc The report section, from the rows of `child/1'.
section(Rows) ->
    case [{P, Fs} || {khepri, churn, P, Fs} <- Rows] of
        [] -> [];
        [{P, Fs} | _] ->
            Num = fun(K, D) -> khepri_bench:num(proplists:get_value(K, Fs), D) end,
            Series = case [S || {khepri, churn_series, _, [{samples, S}]} <- Rows] of
                         [S | _] -> S;
                         [] -> []
                     end,
            ["## churn: memory and disk under puts and deletes (khepri-rs only, fresh VM)\n\n",
             io_lib:format(
               "~b writers put or delete (even odds) random keys of a fixed set of ~b "
               "(each present with probability 1/2 from the start, as the load keeps "
               "it), back to back, for ~b s, on a store with the default snapshot "
               "rules. RSS is the VM's `VmRSS` (NIF memory included), sampled every "
               "5 s; growth is measured from the end of the ~b s warm-up. The issue "
               "asks for RSS growth under 5% after warm-up. Disk: the log's segment "
               "files and the snapshot file.~n~n",
               [proplists:get_value(conc, P), proplists:get_value(keys, P),
                proplists:get_value(seconds, P), proplists:get_value(warmup_s, P)]),
             "| ops/s | RSS after warm-up MiB | max MiB | end MiB | growth at end | max growth "
             "| snapshots | errors | CPU used by other processes |\n"
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
             io_lib:format("| ~ts | ~ts | ~ts | ~ts | ~ts% | ~ts% | ~ts | ~ts | ~ts% |~n~n",
                           [Num(ops_s, 0), Num(rss_warm_mib, 1), Num(rss_max_mib, 1),
                            Num(rss_end_mib, 1), Num(rss_growth_pct, 2),
                            Num(rss_max_growth_pct, 2), Num(builds, 0), Num(errors, 0),
                            Num(other_cpu_pct, 1)]),
             io_lib:format(
               "Log on disk at most ~ts MiB; the highest log / snapshot seen was "
               "~ts (log ~ts MiB beside a snapshot of ~ts MiB); beyond its two "
               "16 MiB segments of slack (the oldest, partly behind the snapshot, "
               "and the newest, preallocated), at most ~ts snapshots. The rules "
               "snapshot at 2 (`log_to_snapshot_ratio`); what is above comes from "
               "the `snapshot_interval` floor and the writes made while a snapshot "
               "is built (README, \"Snapshots and compaction\").~n~n",
               [Num(log_disk_max_mib, 1), Num(log_snapshot_ratio_max, 2),
                Num(log_at_ratio_max_mib, 1), Num(snapshot_at_ratio_max_mib, 1),
                Num(log_beyond_segments_ratio_max, 2)]),
             "| t (s) | RSS MiB | log MiB | snapshot MiB | snapshots |\n"
             "|---:|---:|---:|---:|---:|\n",
             [io_lib:format("| ~b | ~.1f | ~.1f | ~.1f | ~b |~n", [round(T), R, L, Sn, B])
              || {T, R, L, Sn, B} <- Series],
             "\n"]
    end.
