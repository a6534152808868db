%% @doc The project's benchmark: khepri-rs beside Mnesia, in one VM.
%%
%% Workloads, each a closed loop of concurrent workers with a warmup then a
%% sampling window (latency timed in the caller, per operation):
%%   put       1, 10, 100 writers, each write a fresh key (durable write path);
%%   get       1, 2 readers, uniform random keys among 10,000 pre-filled keys;
%%   get_many  1 reader of all 10,000 children of one parent, beside the
%%             floor of building their `#{Path => Data}' map in Erlang;
%%   cluster_put  1, 10, 100 writers of fresh keys on the first member of a
%%             3-member cluster on this machine: this VM and 2 peer VMs
%%             (`peer', loopback distribution, a data dir each). The others
%%             join the first, so for khepri it leads (checked and printed
%%             as writer_leads); Mnesia: `disc_copies' on the 3 nodes. Run
%%             after the other timed phases, on fresh stores. If this VM is
%%             not distributed (run.escript's is not), the phase starts
%%             distribution (epmd, long name khepri_bench_<pid>@127.0.0.1,
%%             loopback only) and stops it afterwards.
%% One-shot measurements:
%%   keep_while  (khepri only) one delete of a queue node that 100,000
%%               bindings depend on through `keep_while', timed in ms;
%%   snapshot    (khepri only) put p99 at 10 writers while a snapshot of
%%               1,000,000 keys is built, against none (khepri_bench_snapshot);
%%   cold_start  restart to first read at 100,000 and 1,000,000 keys, both
%%               backends (khepri_bench_cold);
%%   churn       (khepri only, fresh VM) RSS and log size over 10 minutes of
%%               puts and deletes on a fixed key set (khepri_bench_churn);
%%   memory      RSS and disk bytes per key after 100,000 and 1,000,000 keys,
%%               in a fresh VM per backend (a separate `erl' OS process), so
%%               that no earlier phase's heap or store is counted.
%% The disk's fdatasync latency is probed at the start and at the end of the
%% run, since durable-write figures follow it and it drifts on shared VMs.
%%
%% Backends: `khepri' (this library, through its public API) and `mnesia'
%% (one `disc_copies' table; writes in `mnesia:transaction', reads with
%% `mnesia:dirty_read'). Both store the same ~120-byte map per key.
%%
%% Usage: `escript bench/run.escript [options]' (see bench/run.sh), or
%% `erl -pa <khepri ebin> -pa <dir of this beam> -s khepri_bench start
%%  -extra [options]'.
%%
%% Options:
%%   --backends khepri,mnesia  backends to run, in this order
%%   --warmup-ms N             warmup per phase (default 1000)
%%   --measure-ms N            sampling window per phase (default 4000)
%%   --quick                   warmup 300 ms, window 1000 ms (cluster
%%                             included), and sizes
%%                             cut tenfold: 1000 get_many children, 10000
%%                             bindings, memory at 10000,100000 keys (smoke
%%                             test; later options override)
%%   --get-keys N              keys read by the get phases (default 10000)
%%   --fill-conc N             writers used to pre-fill them (default 50)
%%   --gm-children N           children read by get_many (default 10000)
%%   --bindings N              keep_while dependents (default 100000)
%%   --mem-keys N,M,...        memory checkpoints (default 100000,1000000)
%%   --mem-conc N              writers filling the memory phase (default 100)
%%   --no-memory               skip the memory phase (no child VMs)
%%   --no-cluster              skip the cluster phase (no peer VMs)
%%   --snapshot-keys N         keys of the snapshot phase (default 1000000)
%%   --snapshot-builds N       builds timed by it (default 10)
%%   --no-snapshot             skip the snapshot phase
%%   --cold-keys N,M           cold-start sizes (default 100000,1000000)
%%   --no-cold                 skip the cold-start phase
%%   --churn-seconds N         length of the churn phase (default 600)
%%   --churn-warmup-seconds N  its warm-up, not counted in growth (default 60)
%%   --churn-keys N            its fixed key set (default 1000000)
%%   --churn-conc N            its writers (default 10)
%%   --no-churn                skip the churn phase (its own fresh VM)
%%   --dir DIR                 parent of the temp data dir (default /tmp)
%%   --markdown FILE           also write the comparison tables to FILE
%%
%% Internal, for the child VMs of the memory and churn phases:
%%   --memory-child BACKEND    run only the memory phase of BACKEND
%%   --churn-child             run only the churn phase (khepri)
%%   --rows-out FILE           write the result rows to FILE
%%
%% Output: `PROBE ...' and `RESULT ...' lines (key=value), then a summary.
-module(khepri_bench).

%% ?KHEPRI_WILDCARD_STAR and the condition records, from the library under
%% test (run.escript puts its ebin on the code path before compiling).
-include_lib("khepri/include/khepri.hrl").

-export([start/0, main/1]).
%% The toolkit of the phase modules (bench/khepri_bench_*.erl).
-export([hist_new/0, hist_add/2, stats/2, fill/7, payload/1, print/1, num/2,
         rss_bytes/0, dir_bytes/1, to_secs/1, guarded/3, cpu/0, other_cpu_pct/2]).

-define(STORE, khepri_bench).
-define(TAB, khepri_bench_kv).
%% Mnesia's get_many data: a table of its own, as the shared yardstick does,
%% so that reading "all children of [gm]" is a full scan of exactly them.
-define(GM_TAB, khepri_bench_gm).
%% The queue node every keep_while binding depends on.
-define(QUEUE, [q, <<"q1">>]).
%% Histogram: values below 2^8 native units are exact, larger ones fall in
%% one of 128 buckets per power of two (under 0.8% relative error).
-define(SUB, 128).
-define(HBUCKETS, (?SUB * 32)).
%% Slack allowed beyond a phase's nominal length before its workers are
%% declared stuck: a khepri put waits at most ?OP_TIMEOUT_MS.
-define(OP_TIMEOUT_MS, 30000).
-define(GRACE_MS, 60000).
%% Bound on one child VM of the memory phase: two fills of at most
%% ?FILL_MAX_MS each, plus start, snapshots and stop.
-define(FILL_MAX_MS, 300000).
-define(CHILD_MAX_MS, (2 * ?FILL_MAX_MS + 120000)).
%% Cluster phase: members, and the bound on each remote call, peer boot,
%% join, leader wait (3 VMs share this machine's cores).
-define(CLUSTER_SIZE, 3).
-define(CLUSTER_CALL_MS, 60000).

%% -------------------------------------------------------------------
%% Entry points
%% -------------------------------------------------------------------

%% @doc For `erl -s khepri_bench start -extra ...': runs, then halts with
%% 0 on success, 1 on failure.
start() ->
    Code = try main(init:get_plain_arguments()) of
               ok -> 0
           catch
               Class:Reason:Stack ->
                   io:format(standard_error, "khepri_bench: ~p:~p~n~p~n",
                             [Class, Reason, Stack]),
                   1
           end,
    halt(Code).

%% @doc Runs the suite; raises on a harness failure. A failing backend is
%% reported as an ERROR line and the other one still runs.
-spec main([string()]) -> ok.
main(Args) ->
    O0 = options(Args, #{backends => [khepri, mnesia],
                         warmup_ms => 1000,
                         measure_ms => 4000,
                         get_keys => 10000,
                         fill_conc => 50,
                         gm_children => 10000,
                         bindings => 100000,
                         mem_keys => [100000, 1000000],
                         mem_conc => 100,
                         memory => true,
                         snapshot => true,
                         cold_keys => [100000, 1000000],
                         cold => true,
                         churn => true,
                         churn_seconds => 600,
                         churn_warmup_seconds => 60,
                         churn_keys => 1000000,
                         churn_conc => 10,
                         snapshot_keys => 1000000,
                         snapshot_builds => 10,
                         cluster => true,
                         memory_child => undefined,
                         churn_child => false,
                         rows_out => undefined,
                         dir => "/tmp",
                         markdown => undefined}),
    %% Logger notices from Mnesia and the store would interleave with the
    %% RESULT lines; warnings (e.g. Mnesia overload) still get through.
    ok = logger:set_primary_config(level, warning),
    %% Mnesia logs one warning per log dump it falls behind on (hundreds a
    %% second under the put phases): count them instead, per phase.
    Overloads = counters:new(1, []),
    _ = logger:remove_primary_filter(khepri_bench_overload),
    ok = logger:add_primary_filter(khepri_bench_overload,
                                   {fun overload_filter/2, Overloads}),
    persistent_term:put({?MODULE, overloads}, Overloads),
    Base = filename:join(maps:get(dir, O0),
                         "khepri-bench-" ++ os:getpid()),
    O = O0#{base => Base},
    ok = filelib:ensure_dir(filename:join(Base, "x")),
    try
        case O of
            #{memory_child := B} when B =/= undefined ->
                rows_out(O, memory_child(B, O));
            #{churn_child := true} ->
                rows_out(O, khepri_bench_churn:child(O));
            _ ->
                suite(O)
        end
    after
        _ = logger:remove_primary_filter(khepri_bench_overload),
        _ = persistent_term:erase({?MODULE, overloads}),
        _ = file:del_dir_r(Base)
    end,
    ok.

%% A child VM's rows, for its parent (see child_phase/5).
rows_out(#{rows_out := Out}, Rows) when Out =/= undefined ->
    ok = file:write_file(Out, term_to_binary(Rows));
rows_out(_, _) ->
    ok.

suite(#{base := Base} = O) ->
    io:format("# khepri_bench otp=~s erts=~s schedulers=~b "
              "payload_bytes=~b warmup_ms=~b measure_ms=~b "
              "get_keys=~b gm_children=~b bindings=~b mem_keys=~s "
              "cluster=~s snapshot_keys=~s cold_keys=~s churn=~s backends=~s~n",
              [erlang:system_info(otp_release),
               erlang:system_info(version),
               erlang:system_info(schedulers_online),
               byte_size(term_to_binary(payload(1234567))),
               maps:get(warmup_ms, O), maps:get(measure_ms, O),
               maps:get(get_keys, O), maps:get(gm_children, O),
               maps:get(bindings, O),
               case maps:get(memory, O) of
                   true -> lists:join(",", [integer_to_list(K)
                                            || K <- maps:get(mem_keys, O)]);
                   false -> "none"
               end,
               case maps:get(cluster, O) of
                   true -> integer_to_list(?CLUSTER_SIZE);
                   false -> "none"
               end,
               case maps:get(snapshot, O) of
                   true -> integer_to_list(maps:get(snapshot_keys, O));
                   false -> "none"
               end,
               case maps:get(cold, O) of
                   true -> lists:join(",", [integer_to_list(K)
                                            || K <- maps:get(cold_keys, O)]);
                   false -> "none"
               end,
               case maps:get(churn, O) of
                   true -> io_lib:format("~bs/~bkeys/~bconc",
                                         [maps:get(churn_seconds, O),
                                          maps:get(churn_keys, O),
                                          maps:get(churn_conc, O)]);
                   false -> "none"
               end,
               lists:join(",", [atom_to_list(B)
                                || B <- maps:get(backends, O)])]),
    P0 = probe(Base, start),
    Rs = lists:append([run_backend(B, O) || B <- maps:get(backends, O)]),
    %% Measured after the stores ran, in the same VM as their get_many.
    Floor = guarded(floor, get_many_floor,
                    fun() -> [get_many_floor(O)] end),
    Snapshot = case maps:get(snapshot, O) andalso
                   lists:member(khepri, maps:get(backends, O)) of
                   true -> guarded(khepri, snapshot,
                                   fun() -> khepri_bench_snapshot:run(O) end);
                   false -> []
               end,
    Cold = case maps:get(cold, O) of
               true -> khepri_bench_cold:run(maps:get(backends, O), O);
               false -> []
           end,
    %% Before the memory phase, whose child VMs it does not touch: it
    %% changes this VM's node name and Mnesia schema, which no phase reuses.
    Cluster = case maps:get(cluster, O) of
                  true -> cluster_phase(O);
                  false -> []
              end,
    Mem = case maps:get(memory, O) of
              true -> lists:append([memory_phase(B, O)
                                    || B <- maps:get(backends, O)]);
              false -> []
          end,
    P1 = probe(Base, 'end'),
    Churn = case maps:get(churn, O) andalso lists:member(khepri, maps:get(backends, O)) of
                true -> child_phase(khepri, churn, khepri_bench_churn:child_args(O),
                                    khepri_bench_churn:max_ms(O), O);
                false -> []
            end,
    All = Rs ++ Floor ++ Snapshot ++ Cold ++ Cluster ++ Mem ++ Churn,
    summary(All),
    case maps:get(markdown, O) of
        undefined -> ok;
        File ->
            %% Code points, not bytes: the tables hold µ, × and –.
            Md = unicode:characters_to_binary(markdown([P0, P1], All)),
            ok = file:write_file(File, Md)
    end.

%% error_logger:warning_msg/2 (Mnesia's channel) arrives as a report.
overload_filter(#{msg := {report, #{format := Fmt}}} = Event, Counter)
  when is_list(Fmt) ->
    case string:find(Fmt, "Mnesia is overloaded") of
        nomatch -> Event;
        _ -> counters:add(Counter, 1, 1), stop
    end;
overload_filter(Event, _Counter) ->
    Event.

overloads() ->
    counters:get(persistent_term:get({?MODULE, overloads}), 1).

options([], O) -> O;
options(["--backends", V | T], O) ->
    options(T, O#{backends => [backend(B) || B <- string:lexemes(V, ",")]});
options(["--warmup-ms", V | T], O) ->
    options(T, O#{warmup_ms => list_to_integer(V)});
options(["--measure-ms", V | T], O) ->
    options(T, O#{measure_ms => list_to_integer(V)});
options(["--quick" | T], O) ->
    options(T, O#{warmup_ms => 300, measure_ms => 1000, gm_children => 1000,
                  bindings => 10000, mem_keys => [10000, 100000],
                  snapshot_keys => 100000, snapshot_builds => 3,
                  cold_keys => [10000, 100000], churn_seconds => 60,
                  churn_warmup_seconds => 20, churn_keys => 100000});
options(["--get-keys", V | T], O) ->
    options(T, O#{get_keys => list_to_integer(V)});
options(["--fill-conc", V | T], O) ->
    options(T, O#{fill_conc => list_to_integer(V)});
options(["--gm-children", V | T], O) ->
    options(T, O#{gm_children => list_to_integer(V)});
options(["--bindings", V | T], O) ->
    options(T, O#{bindings => list_to_integer(V)});
options(["--mem-keys", V | T], O) ->
    options(T, O#{mem_keys => [list_to_integer(K)
                               || K <- string:lexemes(V, ",")]});
options(["--mem-conc", V | T], O) ->
    options(T, O#{mem_conc => list_to_integer(V)});
options(["--no-memory" | T], O) ->
    options(T, O#{memory => false});
options(["--cold-keys", V | T], O) ->
    options(T, O#{cold_keys => [list_to_integer(K) || K <- string:lexemes(V, ",")]});
options(["--no-cold" | T], O) ->
    options(T, O#{cold => false});
options(["--churn-seconds", V | T], O) ->
    options(T, O#{churn_seconds => list_to_integer(V)});
options(["--churn-warmup-seconds", V | T], O) ->
    options(T, O#{churn_warmup_seconds => list_to_integer(V)});
options(["--churn-keys", V | T], O) ->
    options(T, O#{churn_keys => list_to_integer(V)});
options(["--churn-conc", V | T], O) ->
    options(T, O#{churn_conc => list_to_integer(V)});
options(["--no-churn" | T], O) ->
    options(T, O#{churn => false});
options(["--no-snapshot" | T], O) ->
    options(T, O#{snapshot => false});
options(["--snapshot-keys", V | T], O) ->
    options(T, O#{snapshot_keys => list_to_integer(V)});
options(["--snapshot-builds", V | T], O) ->
    options(T, O#{snapshot_builds => list_to_integer(V)});
options(["--no-cluster" | T], O) ->
    options(T, O#{cluster => false});
options(["--memory-child", V | T], O) ->
    options(T, O#{memory_child => backend(V)});
options(["--churn-child" | T], O) ->
    options(T, O#{churn_child => true});
options(["--rows-out", V | T], O) ->
    options(T, O#{rows_out => V});
options(["--dir", V | T], O) ->
    options(T, O#{dir => V});
options(["--markdown", V | T], O) ->
    options(T, O#{markdown => V});
options([Other | _], _O) ->
    erlang:error({unknown_option, Other}).

backend("khepri") -> khepri;
backend("mnesia") -> mnesia;
backend(Other) -> erlang:error({unknown_backend, Other}).

%% -------------------------------------------------------------------
%% fdatasync probe
%% -------------------------------------------------------------------

%% 200 rewrites of one preallocated 4 KiB block at offset 0, each followed
%% by fdatasync: the floor under any durable write on this disk.
probe(Base, When) ->
    File = filename:join(Base, "fdatasync-probe"),
    Block = binary:copy(<<16#a5>>, 4096),
    {ok, Fd} = file:open(File, [raw, binary, read, write]),
    try
        %% Allocate the block first so the samples time overwrites only.
        ok = file:pwrite(Fd, 0, Block),
        ok = file:datasync(Fd),
        Samples = lists:sort([probe_once(Fd, Block) || _ <- lists:seq(1, 200)]),
        P50 = nth_pct(Samples, 0.50),
        P99 = nth_pct(Samples, 0.99),
        io:format("PROBE when=~s fdatasync_p50_us=~b fdatasync_p99_us=~b "
                  "n=200~n", [When, P50, P99]),
        {When, P50, P99}
    after
        ok = file:close(Fd),
        _ = file:delete(File)
    end.

probe_once(Fd, Block) ->
    T0 = erlang:monotonic_time(microsecond),
    ok = file:pwrite(Fd, 0, Block),
    ok = file:datasync(Fd),
    erlang:monotonic_time(microsecond) - T0.

%% Nearest-rank percentile of a sorted list.
nth_pct(Sorted, P) ->
    N = length(Sorted),
    lists:nth(max(1, min(N, ceil(P * N))), Sorted).

%% -------------------------------------------------------------------
%% One backend: start a fresh store, run every phase, stop, clean up.
%% -------------------------------------------------------------------

run_backend(B, O) ->
    Dir = filename:join(maps:get(base, O), atom_to_list(B)),
    try
        store_start(B, Dir),
        try
            phases(B, O)
        after
            store_stop(B)
        end
    catch
        Class:Reason:Stack ->
            io:format("ERROR backend=~s ~p:~0p~n  ~0p~n",
                      [B, Class, Reason, lists:sublist(Stack, 5)]),
            [{B, error, [], [{error, Reason}]}]
    after
        _ = file:del_dir_r(Dir)
    end.

phases(B, O) ->
    Seq = atomics:new(1, []),
    Puts = [measure(B, put, [{conc, C}], O, C,
                    fun() -> op_put(B, atomics:add_get(Seq, 1, 1)) end)
            || C <- [1, 10, 100]],
    Keys = maps:get(get_keys, O),
    Fill = fill(B, fill, [{keys, Keys}, {conc, maps:get(fill_conc, O)}],
                1, Keys, maps:get(fill_conc, O),
                fun(N) -> fill_put(B, N) end),
    Gets = [measure(B, get, [{conc, C}, {keys, Keys}], O, C,
                    fun() -> op_get(B, rand:uniform(Keys)) end)
            || C <- [1, 2]],
    Txs = [measure(B, tx, [{conc, C}], O, C, fun() -> op_tx(B) end)
           || C <- [1, 10]],
    %% The later phases are new workloads on the same store: a failure in
    %% one becomes an error row and leaves the rows above in the report.
    GetMany = guarded(B, get_many, fun() -> get_many(B, O) end),
    Cascade = case B of
                  khepri -> guarded(B, keep_while, fun() -> cascade(O) end);
                  %% Mnesia has no keep_while: nothing to compare.
                  mnesia -> []
              end,
    Projections = case B of
                      khepri ->
                          guarded(B, projections,
                                  fun() ->
                                          khepri_bench_projections:run(
                                            fun measure/6, ?STORE, O)
                                  end);
                      %% Mnesia has no projections.
                      mnesia -> []
                  end,
    Puts ++ [Fill | Gets] ++ Txs ++ GetMany ++ Cascade ++ Projections.

%% @doc Runs Fun (returning rows); an exception becomes one error row.
guarded(B, Phase, Fun) ->
    try
        Fun()
    catch
        Class:Reason:Stack ->
            io:format("ERROR backend=~s phase=~s ~p:~0p~n  ~0p~n",
                      [B, Phase, Class, Reason, lists:sublist(Stack, 5)]),
            [{B, error, [{phase, Phase}], [{error, Reason}]}]
    end.

%% -------------------------------------------------------------------
%% get_many: all children of one parent
%% -------------------------------------------------------------------

get_many(B, O) ->
    N = maps:get(gm_children, O),
    Conc = maps:get(fill_conc, O),
    Fill = fill(B, gm_fill, [{children, N}, {conc, Conc}], 1, N, Conc,
                fun(I) -> gm_put(B, I) end),
    Read = measure(B, get_many, [{conc, 1}, {children, N}], O, 1,
                   fun() -> op_get_many(B, N) end),
    [Fill, Read].

%% The floor under any get_many that returns the SPEC's `#{Path => Data}':
%% building that map from its N pairs, already in the caller's heap.
%% Mnesia's dirty_select returns a list and does not pay it.
get_many_floor(O) ->
    N = maps:get(gm_children, O),
    Pairs = [{gm_key(I), payload(I)} || I <- lists:seq(1, N)],
    measure(floor, get_many_floor, [{conc, 1}, {children, N}], O, 1,
            fun() -> N = map_size(maps:from_list(Pairs)) end).

%% -------------------------------------------------------------------
%% keep_while cascade (khepri only)
%% -------------------------------------------------------------------

%% N bindings each kept only while ?QUEUE exists; one delete of ?QUEUE
%% must remove them all. Timed in the caller; the library's own timeout
%% (?OP_TIMEOUT_MS) bounds the delete.
cascade(O) ->
    N = maps:get(bindings, O),
    Conc = maps:get(fill_conc, O),
    ok = khepri:put(?STORE, ?QUEUE, payload(0)),
    Opts = #{keep_while => #{?QUEUE => #if_node_exists{exists = true}}},
    Fill = fill(khepri, kw_fill, [{bindings, N}, {conc, Conc}], 1, N, Conc,
                fun(I) ->
                        ok = khepri:put(?STORE, binding_key(I), payload(I),
                                        Opts)
                end),
    {ok, N} = khepri:count(?STORE, [x, bindings, ?KHEPRI_WILDCARD_STAR]),
    T0 = erlang:monotonic_time(),
    ok = khepri:delete(?STORE, ?QUEUE),
    T1 = erlang:monotonic_time(),
    {ok, Left} = khepri:count(?STORE, [x, bindings, ?KHEPRI_WILDCARD_STAR]),
    T2 = erlang:monotonic_time(),
    false = khepri:exists(?STORE, ?QUEUE),
    Row = {khepri, keep_while, [{bindings, N}],
           [{delete_ms, to_secs(T1 - T0) * 1000},
            {count_ms, to_secs(T2 - T1) * 1000},
            {left, Left},
            {errors, case Left of 0 -> 0; _ -> 1 end}]},
    print(Row),
    [Fill, Row].

%% -------------------------------------------------------------------
%% Backends
%% -------------------------------------------------------------------

store_start(khepri, Dir) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    %% The library's own bound on each call (its default is infinity), so
    %% that a stalled engine shows up as errors instead of a hung worker.
    _ = application:load(khepri),
    ok = application:set_env(khepri, default_timeout, ?OP_TIMEOUT_MS),
    {ok, ?STORE} = khepri:start(Dir, ?STORE),
    ok;
store_start(mnesia, Dir) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    _ = application:load(mnesia),
    ok = application:set_env(mnesia, dir, Dir),
    ok = mnesia:create_schema([node()]),
    ok = mnesia:start(),
    [{atomic, ok} = mnesia:create_table(T, [{disc_copies, [node()]},
                                            {attributes, [key, val]}])
     || T <- [?TAB, ?GM_TAB]],
    ok = mnesia:wait_for_tables([?TAB, ?GM_TAB], 60000).

store_stop(khepri) ->
    ok = khepri:stop(?STORE),
    _ = application:stop(khepri),
    ok = application:unset_env(khepri, default_timeout);
store_stop(mnesia) ->
    stopped = mnesia:stop(),
    ok.

%% Same depth (2) and shape for both workloads, as RabbitMQ's queue paths.
put_key(N) -> [bench_put, <<"q-", (integer_to_binary(N))/binary>>].
get_key(N) -> [bench_get, <<"q-", (integer_to_binary(N))/binary>>].
%% The shapes the workloads name: children of one parent, bindings, and the
%% memory phase's keys.
gm_key(N) -> [gm, <<"k", (integer_to_binary(N))/binary>>].
binding_key(N) -> [x, bindings, <<"b", (integer_to_binary(N))/binary>>].
mem_key(N) -> [bench, <<"k", (integer_to_binary(N))/binary>>].

%% A RabbitMQ-like queue record as a map.
payload(N) ->
    #{name => {resource, <<"/">>, queue, <<"q-", (integer_to_binary(N))/binary>>},
      durable => true,
      auto_delete => false,
      type => classic,
      seq => N}.

op_put(khepri, N) ->
    ok = khepri:put(?STORE, put_key(N), payload(N));
op_put(mnesia, N) ->
    Rec = {?TAB, put_key(N), payload(N)},
    {atomic, ok} = mnesia:transaction(fun() -> mnesia:write(Rec) end),
    ok.

%% One increment of the worker's own counter in a read-write transaction
%% (the yardstick's `tx' workload): read, write, commit.
op_tx(khepri) ->
    Key = ctr_key(),
    {ok, _} = khepri:transaction(
                ?STORE, fun() ->
                                case khepri_tx:get(Key) of
                                    {ok, V} -> khepri_tx:put(Key, V + 1);
                                    _ -> khepri_tx:put(Key, 1)
                                end
                        end),
    ok;
op_tx(mnesia) ->
    Key = ctr_key(),
    {atomic, ok} = mnesia:transaction(
                     fun() ->
                             case mnesia:read(?TAB, Key, write) of
                                 [{?TAB, _, V}] -> mnesia:write({?TAB, Key, V + 1});
                                 [] -> mnesia:write({?TAB, Key, 1})
                             end
                     end),
    ok.

ctr_key() ->
    [bench_tx, list_to_binary(pid_to_list(self()))].

%% Matches the stored sequence number, so a wrong answer counts as an error.
op_get(khepri, N) ->
    {ok, #{seq := N}} = khepri:get(?STORE, get_key(N)),
    ok;
op_get(mnesia, N) ->
    [{?TAB, _, #{seq := N}}] = mnesia:dirty_read(?TAB, get_key(N)),
    ok.

fill_put(khepri, N) ->
    ok = khepri:put(?STORE, get_key(N), payload(N));
fill_put(mnesia, N) ->
    Rec = {?TAB, get_key(N), payload(N)},
    {atomic, ok} = mnesia:transaction(fun() -> mnesia:write(Rec) end),
    ok.

gm_put(khepri, N) ->
    ok = khepri:put(?STORE, gm_key(N), payload(N));
gm_put(mnesia, N) ->
    Rec = {?GM_TAB, gm_key(N), payload(N)},
    {atomic, ok} = mnesia:transaction(fun() -> mnesia:write(Rec) end),
    ok.

mem_put(khepri, N) ->
    ok = khepri:put(?STORE, mem_key(N), payload(N));
mem_put(mnesia, N) ->
    Rec = {?TAB, mem_key(N), payload(N)},
    {atomic, ok} = mnesia:transaction(fun() -> mnesia:write(Rec) end),
    ok.

%% Checks the count, so that a short answer counts as an error.
op_get_many(khepri, N) ->
    {ok, Map} = khepri:get_many(?STORE, [gm, ?KHEPRI_WILDCARD_STAR]),
    N = map_size(Map),
    ok;
op_get_many(mnesia, N) ->
    %% All children of [gm] live in their own table: a full scan.
    N = length(mnesia:dirty_select(?GM_TAB, [{'_', [], ['$_']}])),
    ok.

%% Calls Put(From..To) with Conc writers sharing a counter; returns a result
%% row with the fill rate (informative, not a timed phase).
fill(B, Workload, Params, From, To, Conc, Put) ->
    Next = atomics:new(1, []),
    ok = atomics:put(Next, 1, From - 1),
    T0 = erlang:monotonic_time(),
    Ws = [spawn_monitor(fun() -> fill_loop(Put, Next, To) end)
          || _ <- lists:seq(1, Conc)],
    Deadline = erlang:monotonic_time(millisecond) + ?FILL_MAX_MS,
    [receive
         {'DOWN', Ref, process, Pid, normal} -> ok;
         {'DOWN', Ref, process, Pid, Why} -> erlang:error({fill_failed, Why})
     after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
         [exit(P, kill) || {P, _} <- Ws],
         erlang:error(fill_timeout)
     end || {Pid, Ref} <- Ws],
    Secs = to_secs(erlang:monotonic_time() - T0),
    Row = {B, Workload, Params,
           [{ops_s, (To - From + 1) / Secs}, {secs, Secs}]},
    print(Row),
    Row.

fill_loop(Put, Next, To) ->
    case atomics:add_get(Next, 1, 1) of
        N when N =< To -> Put(N), fill_loop(Put, Next, To);
        _ -> ok
    end.

%% -------------------------------------------------------------------
%% Cluster phase: 3 members on this machine, writes on the first
%% -------------------------------------------------------------------

cluster_phase(O) ->
    case guarded(cluster, distribution, fun cluster_distribution/0) of
        [{cluster, error, _, _}] = Err ->
            Err;
        Started ->
            try
                lists:append([guarded(B, cluster,
                                      fun() -> cluster_backend(B, O) end)
                              || B <- maps:get(backends, O)])
            after
                stop_distribution(Started)
            end
    end.

%% Peers need this VM distributed; run.escript's is not. Long names on
%% 127.0.0.1 and a loopback-only listener: no DNS, nothing exposed.
cluster_distribution() ->
    case is_alive() of
        true ->
            already;
        false ->
            %% erl -name starts epmd itself; net_kernel:start/2 does not.
            Epmd = case os:find_executable("epmd") of
                       false -> filename:join([code:root_dir(), "bin", "epmd"]);
                       E -> E
                   end,
            _ = os:cmd(Epmd ++ " -daemon"),
            ok = application:set_env(kernel, inet_dist_use_interface,
                                     {127, 0, 0, 1}),
            Name = list_to_atom("khepri_bench_" ++ os:getpid()
                                ++ "@127.0.0.1"),
            {ok, _} = net_kernel:start(Name, #{name_domain => longnames}),
            started
    end.

stop_distribution(started) ->
    _ = net_kernel:stop(),
    _ = application:unset_env(kernel, inet_dist_use_interface),
    ok;
stop_distribution(already) ->
    ok.

%% One backend: 2 peers, a store on each of the 3 nodes, the put levels,
%% then a check that every replica holds the same keys. Peers stopped and
%% data dirs removed whatever happens.
cluster_backend(B, O) ->
    Dir = filename:join([maps:get(base, O), "cluster", atom_to_list(B)]),
    T0 = erlang:monotonic_time(),
    try
        Peers = start_peers(B, ?CLUSTER_SIZE - 1),
        try
            Nodes = [node() | [N || {_, N} <- Peers]],
            Dirs = [filename:join(Dir, "n" ++ integer_to_list(I))
                    || I <- lists:seq(1, length(Nodes))],
            try
                cluster_start(B, Nodes, Dirs),
                cluster_run(B, O, Nodes, T0)
            after
                cluster_stop(B, Nodes)
            end
        after
            [catch peer:stop(P) || {P, _} <- Peers]
        end
    after
        _ = file:del_dir_r(Dir)
    end.

%% Unlinked (peer:start): a peer going down must not kill this process
%% before its cleanup runs; a peer halts by itself when this VM goes.
start_peers(B, Count) ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Root = code:root_dir(),
    Paths = lists:append([["-pa", P] || P <- code:get_path(),
                                        not lists:prefix(Root, P), P =/= "."]),
    Loopback = case Host of
                   "127.0.0.1" -> ["-kernel", "inet_dist_use_interface",
                                   "{127,0,0,1}"];
                   _ -> []
               end,
    Args = Loopback ++ ["-kernel", "logger_level", "warning" | Paths],
    lists:foldl(
      fun(I, Started) ->
              Name = list_to_atom(lists:flatten(
                                    io_lib:format("khepri_bench_~s_~s_~b",
                                                  [os:getpid(), B, I]))),
              try peer:start(#{name => Name, host => Host,
                               longnames => net_kernel:longnames(),
                               wait_boot => ?CLUSTER_CALL_MS,
                               args => Args}) of
                  {ok, Pid, Node} -> Started ++ [{Pid, Node}]
              catch
                  Class:Reason:Stack ->
                      [catch peer:stop(P) || {P, _} <- Started],
                      erlang:raise(Class, Reason, Stack)
              end
      end, [], lists:seq(2, Count + 1)).

on(Node, M, F, A) ->
    erpc:call(Node, M, F, A, ?CLUSTER_CALL_MS).

%% The others join the first, one at a time (a membership change needs the
%% previous one committed), so the first one stays leader.
cluster_start(khepri, [First | Others] = Nodes, [Dir1 | Dirs]) ->
    store_start(khepri, Dir1),
    [begin
         _ = on(N, application, load, [khepri]),
         ok = on(N, application, set_env,
                 [khepri, default_timeout, ?OP_TIMEOUT_MS]),
         {ok, ?STORE} = on(N, khepri, start, [D, ?STORE]),
         ok = on(N, khepri_cluster, join, [?STORE, First, ?CLUSTER_CALL_MS])
     end || {N, D} <- lists:zip(Others, Dirs)],
    [ok = on(N, khepri_cluster, wait_for_leader, [?STORE, ?CLUSTER_CALL_MS])
     || N <- Nodes],
    Sorted = lists:sort(Nodes),
    {ok, Sorted} = khepri_cluster:nodes(?STORE),
    ok;
cluster_start(mnesia, Nodes, Dirs) ->
    %% This VM ran Mnesia (stopped since) on a one-node schema under
    %% nonode@nohost: a new dir gives the 3-node schema a clean start.
    [begin
         ok = on(N, filelib, ensure_path, [D]),
         _ = on(N, application, load, [mnesia]),
         ok = on(N, application, set_env, [mnesia, dir, D])
     end || {N, D} <- lists:zip(Nodes, Dirs)],
    ok = mnesia:create_schema(Nodes),
    [ok = on(N, mnesia, start, []) || N <- Nodes],
    {atomic, ok} = mnesia:create_table(?TAB, [{disc_copies, Nodes},
                                              {attributes, [key, val]}]),
    [ok = on(N, mnesia, wait_for_tables, [[?TAB], ?CLUSTER_CALL_MS])
     || N <- Nodes],
    ok.

%% Peers first, then this node; tolerates a half-made cluster.
cluster_stop(khepri, [_ | Peers]) ->
    [catch on(N, khepri, stop, [?STORE]) || N <- Peers],
    store_stop(khepri);
cluster_stop(mnesia, [_ | Peers]) ->
    [catch on(N, mnesia, stop, []) || N <- Peers],
    stopped = mnesia:stop(),
    ok.

cluster_run(B, O, Nodes, T0) ->
    Size = length(Nodes),
    Setup = {B, cluster_setup, [{nodes, Size}],
             [{setup_ms, to_secs(erlang:monotonic_time() - T0) * 1000}
              | leader_fields(B)]},
    print(Setup),
    Seq = atomics:new(1, []),
    Puts = [measure(B, cluster_put,
                    [{nodes, Size}, {conc, C} | writer_leads(B)], O, C,
                    fun() -> op_put(B, atomics:add_get(Seq, 1, 1)) end)
            || C <- [1, 10, 100]],
    Counts = replica_counts(B, Nodes, 30000),
    Check = {B, cluster_check, [{nodes, Size}],
             [{keys, hd(Counts)},
              {replicas_agree, lists:usort(Counts) =:= [hd(Counts)]},
              {errors, length(lists:usort(Counts)) - 1}]},
    print(Check),
    [Setup | Puts] ++ [Check].

%% Mnesia has no leader: every node coordinates its own transactions.
leader_fields(khepri) ->
    {ok, E} = khepri_store:engine(?STORE),
    Leader = case khepri_nif:leader(E) of
                 L when is_binary(L) -> binary_to_atom(L);
                 undefined -> undefined
             end,
    [{leader, Leader}, {writer_leads, Leader =:= node()}];
leader_fields(mnesia) ->
    [].

writer_leads(khepri) -> [lists:keyfind(writer_leads, 1, leader_fields(khepri))];
writer_leads(mnesia) -> [].

%% Keys under [bench_put] on each node, once all agree or at the deadline
%% (followers apply, and Mnesia's participants log, after the writer's
%% call returned).
replica_counts(B, Nodes, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    replica_counts_until(B, Nodes, Deadline).

replica_counts_until(B, Nodes, Deadline) ->
    Counts = [replica_count(B, N) || N <- Nodes],
    case length(lists:usort(Counts)) =:= 1
        orelse erlang:monotonic_time(millisecond) > Deadline of
        true -> Counts;
        false -> timer:sleep(200), replica_counts_until(B, Nodes, Deadline)
    end.

replica_count(khepri, N) ->
    {ok, C} = on(N, khepri, count, [?STORE, [bench_put, ?KHEPRI_WILDCARD_STAR]]),
    C;
replica_count(mnesia, N) ->
    on(N, mnesia, table_info, [?TAB, size]).

%% -------------------------------------------------------------------
%% Memory phase: one fresh VM per backend
%% -------------------------------------------------------------------

%% Parent side: runs this module in a new `erl' OS process with
%% `--memory-child B' (see child_phase/5).
memory_phase(B, O) ->
    child_phase(B, memory,
                ["--memory-child", atom_to_list(B),
                 "--mem-keys",
                 lists:flatten(lists:join(",", [integer_to_list(K)
                                                || K <- maps:get(mem_keys, O)])),
                 "--mem-conc", integer_to_list(maps:get(mem_conc, O))],
                ?CHILD_MAX_MS, O).

%% @doc Runs this module in a new `erl' OS process with `ChildArgs' (its
%% options), relays its output, and reads back the rows it wrote to
%% `--rows-out'. A failed or stuck child (after MaxMs) becomes an error
%% row; the other phases still run.
child_phase(B, Phase, ChildArgs, MaxMs, #{base := Base}) ->
    Out = filename:join(Base, atom_to_list(B) ++ "-" ++ atom_to_list(Phase) ++ ".rows"),
    guarded(B, Phase,
            fun() ->
                    Args = ["-noshell",
                            "-pa", filename:dirname(code:which(khepri)),
                            "-pa", child_beam_dir(Base),
                            "-s", ?MODULE_STRING, "start",
                            "-extra",
                            "--rows-out", Out,
                            "--dir", Base | ChildArgs],
                    Erl = filename:join([code:root_dir(), "bin", "erl"]),
                    Port = open_port({spawn_executable, Erl},
                                     [{args, Args}, {line, 4096}, binary,
                                      exit_status, stderr_to_stdout]),
                    Deadline = erlang:monotonic_time(millisecond) + MaxMs,
                    0 = relay(Port, Deadline, []),
                    {ok, Bin} = file:read_file(Out),
                    binary_to_term(Bin)
            end).

%% Where the child finds the bench's object code: the dir of the .beam this
%% module was loaded from, or, when run.escript compiled the modules in
%% memory (code:which/1 then names the source), a fresh compile of every
%% bench/khepri_bench*.erl into the run's temp dir. The dir must not be
%% called "ebin": code:priv_dir(khepri) could then pick it (see yardstick.sh).
child_beam_dir(Base) ->
    case code:which(?MODULE) of
        File when is_list(File) ->
            case filename:extension(File) of
                ".beam" ->
                    filename:dirname(File);
                _ ->
                    Dir = filename:join(Base, "beam"),
                    ok = filelib:ensure_dir(filename:join(Dir, "x")),
                    Sources = filelib:wildcard(
                                filename:join(filename:dirname(File), "khepri_bench*.erl")),
                    [{ok, _} = compile:file(Src, [{outdir, Dir}, report, warnings_as_errors])
                     || Src <- Sources],
                    Dir
            end
    end.

%% Prints the child's lines as they come; returns its exit status.
relay(Port, Deadline, Partial) ->
    receive
        {Port, {data, {eol, Line}}} ->
            io:format("~ts~n", [[lists:reverse(Partial), Line]]),
            relay(Port, Deadline, []);
        {Port, {data, {noeol, Chunk}}} ->
            relay(Port, Deadline, [Chunk | Partial]);
        {Port, {exit_status, Status}} ->
            Status
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
        case erlang:port_info(Port, os_pid) of
            {os_pid, Pid} -> os:cmd("kill -9 " ++ integer_to_list(Pid));
            undefined -> ok
        end,
        catch port_close(Port),
        erlang:error(child_vm_timeout)
    end.

%% Child side: baseline, start the store, then fill up to each checkpoint
%% with mem_conc writers and measure. Returns the rows for the parent.
memory_child(B, #{base := Base} = O) ->
    Dir = filename:join(Base, atom_to_list(B) ++ "-memory"),
    M0 = mem_snapshot(),
    Rows =
        try
            store_start(B, Dir),
            try
                {_, Acc} = lists:foldl(
                             fun(Keys, {Have, Acc0}) ->
                                     {Keys, [mem_checkpoint(B, O, Dir, M0,
                                                            Have, Keys)
                                             | Acc0]}
                             end, {0, []}, maps:get(mem_keys, O)),
                lists:reverse(Acc)
            after
                store_stop(B)
            end
        catch
            Class:Reason:Stack ->
                io:format("ERROR backend=~s phase=memory ~p:~0p~n  ~0p~n",
                          [B, Class, Reason, lists:sublist(Stack, 5)]),
                [{B, error, [{phase, memory}], [{error, Reason}]}]
        end,
    Rows.

mem_checkpoint(B, O, Dir, M0, Have, Keys) ->
    Conc = maps:get(mem_conc, O),
    Fill = fill(B, mem_fill, [{keys, Keys}, {conc, Conc}], Have + 1, Keys,
                Conc, fun(N) -> mem_put(B, N) end),
    M = mem_snapshot(),
    Disk = dir_bytes(Dir),
    PerKey = fun(V) -> V / Keys end,
    Row = {B, memory, [{keys, Keys}, {conc, Conc}],
           [{rss_bytes_per_key, PerKey(maps:get(rss, M) - maps:get(rss, M0))},
            {beam_bytes_per_key,
             PerKey(maps:get(total, M) - maps:get(total, M0))},
            {disk_bytes_per_key, PerKey(Disk)},
            {rss_mib, maps:get(rss, M) / (1 bsl 20)},
            {disk_mib, Disk / (1 bsl 20)},
            {insert_ops_s, field(ops_s, element(4, Fill))}]},
    print(Row),
    Row.

%% GC everything, let deferred frees settle, GC again (as the yardstick).
mem_snapshot() ->
    gc_all(),
    timer:sleep(1000),
    gc_all(),
    #{rss => rss_bytes(), total => erlang:memory(total)}.

gc_all() ->
    _ = [erlang:garbage_collect(P) || P <- processes()],
    ok.

%% Resident set size of this OS process: the NIF's memory is in it and
%% nowhere in erlang:memory/0.
rss_bytes() ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Bin, "VmRSS:\\s+(\\d+) kB",
                           [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.

%% @doc CPU time of the whole machine and of this OS process, in clock ticks
%% (/proc/stat, /proc/self/stat): what other processes took meanwhile
%% tells how quiet the machine was.
cpu() ->
    {ok, Stat} = file:read_file("/proc/stat"),
    [Line | _] = binary:split(Stat, <<"\n">>),
    [<<"cpu">> | Fields] = [case F of
                                <<"cpu">> -> F;
                                _ -> binary_to_integer(F)
                            end || F <- binary:split(Line, <<" ">>, [global, trim_all])],
    %% guest time is already counted in user time.
    [User, Nice, System, Idle, IoWait, Irq, SoftIrq, Steal | _] = Fields,
    {ok, Self} = file:read_file("/proc/self/stat"),
    %% Fields after the command name (which may hold spaces): utime, stime
    %% are the 14th and 15th of the line, the 12th and 13th after ")".
    [_, After] = binary:split(Self, <<") ">>),
    Own = lists:sublist(binary:split(After, <<" ">>, [global]), 12, 2),
    Busy = User + Nice + System + Irq + SoftIrq + Steal,
    #{busy => Busy, all => Busy + Idle + IoWait,
      own => lists:sum([binary_to_integer(F) || F <- Own])}.

%% @doc Percent of the machine's CPU used by other processes between two
%% cpu() samples: how quiet the machine was during a phase.
other_cpu_pct(#{busy := B0, all := A0, own := O0}, #{busy := B1, all := A1, own := O1}) ->
    100 * max(0, (B1 - B0) - (O1 - O0)) / max(1, A1 - A0).

dir_bytes(Dir) ->
    filelib:fold_files(Dir, ".*", true,
                       fun(F, Acc) -> Acc + filelib:file_size(F) end, 0).

%% -------------------------------------------------------------------
%% Closed-loop measurement
%% -------------------------------------------------------------------

%% Conc workers run Op back to back. Operations that start before the
%% window opens are warmup; those that start inside it are counted and
%% timed into the worker's own histogram (no list of samples to grow, GC
%% and copy, which would itself disturb sub-microsecond reads).
measure(B, Workload, Params, O, Conc, Op) ->
    Self = self(),
    Ws = [spawn_monitor(fun() -> worker(Self, Op) end)
          || _ <- lists:seq(1, Conc)],
    ok = await_ready(Ws, 10000),
    Warm = erlang:convert_time_unit(maps:get(warmup_ms, O), millisecond, native),
    Meas = erlang:convert_time_unit(maps:get(measure_ms, O), millisecond, native),
    Tw = erlang:monotonic_time() + Warm,
    Te = Tw + Meas,
    [P ! {go, Tw, Te} || {P, _} <- Ws],
    Budget = maps:get(warmup_ms, O) + maps:get(measure_ms, O) + ?GRACE_MS,
    Ov0 = overloads(),
    Done = await_done(Ws, erlang:monotonic_time(millisecond) + Budget, []),
    Extra = case B of
                mnesia -> [{mnesia_overload_warnings, overloads() - Ov0}];
                _ -> []
            end,
    Row = {B, Workload, Params, stats(Done, maps:get(measure_ms, O)) ++ Extra},
    print(Row),
    Row.

worker(Parent, Op) ->
    Parent ! {ready, self()},
    receive
        {go, Tw, Te} ->
            H = counters:new(?HBUCKETS, []),
            {Max, Sum, Errs, FirstErr} = wloop(Op, Tw, Te, H, 0, 0, 0, none),
            Parent ! {done, self(), {H, Max, Sum, Errs, FirstErr}}
    after 30000 ->
        exit(no_go)
    end.

wloop(Op, Tw, Te, H, Max, Sum, Errs, FirstErr) ->
    T1 = erlang:monotonic_time(),
    if
        T1 >= Te ->
            {Max, Sum, Errs, FirstErr};
        true ->
            Res = try Op() of
                      _ -> ok
                  catch
                      C:R -> {C, R}
                  end,
            T2 = erlang:monotonic_time(),
            case {T1 >= Tw, Res} of
                {false, _} ->
                    wloop(Op, Tw, Te, H, Max, Sum, Errs, FirstErr);
                {true, ok} ->
                    D = T2 - T1,
                    ok = counters:add(H, bucket(D) + 1, 1),
                    wloop(Op, Tw, Te, H, max(Max, D), Sum + D, Errs,
                          FirstErr);
                {true, Err} ->
                    First = case FirstErr of none -> Err; _ -> FirstErr end,
                    wloop(Op, Tw, Te, H, Max, Sum, Errs + 1, First)
            end
    end.

%% @doc A latency histogram for `hist_add/2' and `stats/2'.
hist_new() -> counters:new(?HBUCKETS, []).

%% @doc Counts one duration (native units) in histogram H.
hist_add(H, D) -> counters:add(H, bucket(D) + 1, 1).

%% Log-linear bucket of a duration in native units (see ?SUB).
bucket(V) when V < 2 * ?SUB -> V;
bucket(V) -> bucket(V bsr 1, 1).

bucket(M, S) when M < 2 * ?SUB -> min(?SUB * S + M, ?HBUCKETS - 1);
bucket(M, S) -> bucket(M bsr 1, S + 1).

%% Midpoint of a bucket's range, in native units.
bucket_value(I) when I < 2 * ?SUB -> I;
bucket_value(I) ->
    S = (I - ?SUB) div ?SUB,
    M = I - ?SUB * S,
    (M bsl S) + ((1 bsl S) - 1) / 2.

await_ready([], _Ms) ->
    ok;
await_ready([{P, Ref} | T] = Ws, Ms) ->
    receive
        {ready, P} -> await_ready(T, Ms);
        {'DOWN', Ref, process, P, Why} -> erlang:error({worker_died, Why})
    after Ms ->
        [exit(W, kill) || {W, _} <- Ws],
        erlang:error(worker_start_timeout)
    end.

await_done([], _Deadline, Acc) ->
    Acc;
await_done([{P, Ref} | T] = Ws, Deadline, Acc) ->
    receive
        {done, P, Res} ->
            erlang:demonitor(Ref, [flush]),
            await_done(T, Deadline, [Res | Acc]);
        {'DOWN', Ref, process, P, Why} ->
            [exit(W, kill) || {W, _} <- T],
            erlang:error({worker_died, Why})
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
        [exit(W, kill) || {W, _} <- Ws],
        erlang:error({phase_timeout, length(Ws), workers_stuck})
    end.

%% @doc ops/s, p50, p99, max, mean, n, errors of the workers' results
%% `[{Histogram, Max, Sum, Errors, FirstError}]' over a window of MeasureMs.
stats(Done, MeasureMs) ->
    Hist = lists:foldl(
             fun({H, _, _, _, _}, Acc) ->
                     [A + counters:get(H, I)
                      || {A, I} <- lists:zip(Acc, lists:seq(1, ?HBUCKETS))]
             end, lists:duplicate(?HBUCKETS, 0), Done),
    N = lists:sum(Hist),
    Errs = lists:sum([E || {_, _, _, E, _} <- Done]),
    Max = lists:max([0 | [M || {_, M, _, _, _} <- Done]]),
    Sum = lists:sum([S || {_, _, S, _, _} <- Done]),
    case [F || {_, _, _, _, F} <- Done, F =/= none] of
        [] -> ok;
        [F | _] -> io:format("# first error: ~0p~n", [F])
    end,
    [{ops_s, N / (MeasureMs / 1000)},
     {p50_us, us(pct(Hist, N, 0.50))},
     {p99_us, us(pct(Hist, N, 0.99))},
     {max_us, us(Max)},
     {mean_us, us(Sum / max(N, 1))},
     {n, N},
     {errors, Errs}].

%% Nearest-rank percentile over the histogram, as a bucket midpoint.
pct(_Hist, 0, _P) -> 0;
pct(Hist, N, P) -> pct(Hist, 0, max(1, ceil(P * N)), 0).

pct([C | T], I, Rank, Seen) ->
    case Seen + C >= Rank of
        true -> bucket_value(I);
        false -> pct(T, I + 1, Rank, Seen + C)
    end.

us(Native) -> Native * 1.0e6 / erlang:convert_time_unit(1, second, native).

to_secs(Native) -> Native / erlang:convert_time_unit(1, second, native).

%% -------------------------------------------------------------------
%% Output
%% -------------------------------------------------------------------

print({B, Workload, Params, Fields}) ->
    io:format("RESULT backend=~s workload=~s~s~n",
              [B, Workload, [[" ", kv(K, V)] || {K, V} <- Params ++ Fields]]).

kv(K, V) when is_float(V) -> io_lib:format("~s=~.1f", [K, V]);
kv(K, V) when is_integer(V) -> io_lib:format("~s=~p", [K, V]);
%% ~s: a node name unquoted.
kv(K, V) when is_atom(V) -> io_lib:format("~s=~s", [K, V]);
kv(K, V) -> io_lib:format("~s=~s", [K, re:replace(io_lib:format("~0p", [V]),
                                                  "\\s+", "_",
                                                  [global, {return, list}])]).

summary(Rows) ->
    io:format("~n~-7s ~-14s ~-5s ~12s ~10s ~10s ~7s~n",
              ["backend", "load", "conc", "ops/s", "p50_us", "p99_us",
               "errors"]),
    [io:format("~-7s ~-14s ~-5b ~12.1f ~10.1f ~10.1f ~7b~n",
               [B, W, proplists:get_value(conc, P), field(ops_s, F),
                field(p50_us, F), field(p99_us, F), field(errors, F)])
     || {B, W, P, F} <- Rows,
        lists:member(W, [put, get, tx, get_many, get_many_floor,
                         cluster_put])],
    [io:format("~-7s keep_while bindings=~b delete_ms=~.1f left=~b~n",
               [B, proplists:get_value(bindings, P), field(delete_ms, F),
                field(left, F)])
     || {B, keep_while, P, F} <- Rows],
    [io:format("~-7s memory keys=~b rss_bytes_per_key=~.1f "
               "disk_bytes_per_key=~.1f~n",
               [B, proplists:get_value(keys, P), field(rss_bytes_per_key, F),
                field(disk_bytes_per_key, F)])
     || {B, memory, P, F} <- Rows],
    ok.

field(K, Fields) -> proplists:get_value(K, Fields).

%% The comparison tables of bench/REPORT.md (run.sh adds the header).
markdown(Probes, Rows) ->
    ProbeLines =
        [io_lib:format("| ~s of run | ~b | ~b |~n", [W, P50, P99])
         || {W, P50, P99} <- Probes],
    ["## fdatasync probe\n\n"
       "200 × (pwrite 4 KiB at offset 0 of a preallocated file + fdatasync), "
       "same disk as the data dirs.\n\n"
       "| when | p50 µs | p99 µs |\n|---|---:|---:|\n", ProbeLines,
     "\n",
     table(Rows, put, "put (fresh key per op; khepri: Raft log append "
                        "+ fdatasync, group-committed; Mnesia: "
                        "`mnesia:transaction` on `disc_copies`)"),
     table(Rows, get, "get (uniform random keys; khepri: `khepri:get/2`; "
                        "Mnesia: `mnesia:dirty_read/2`)"),
     table(Rows, tx, "tx (each client increments its own counter: read, "
                       "write, commit; khepri: `khepri:transaction/2` with "
                       "`khepri_tx:get/put`, durable; Mnesia: "
                       "`mnesia:transaction` with a write lock on "
                       "`disc_copies`)"),
     fill_lines(Rows),
     overload_lines(Rows),
     get_many_section(Rows),
     keep_while_section(Rows),
     khepri_bench_projections:section(Rows),
     khepri_bench_snapshot:section(Rows),
     khepri_bench_cold:section(Rows),
     cluster_section(Rows),
     memory_section(Rows),
     khepri_bench_churn:section(Rows),
     errors(Rows)].

get_many_section(Rows) ->
    case [P || {_, get_many, P, _} <- Rows] of
        [] -> [];
        [P | _] ->
            N = proplists:get_value(children, P),
            [table(Rows, get_many,
                   io_lib:format(
                     "get_many (all ~b children of one parent, 1 client; "
                     "khepri: `khepri:get_many(S, [gm, ?KHEPRI_WILDCARD_STAR])`"
                     " returns `#{Path => Data}`; Mnesia: the same data in a "
                     "table of its own, `mnesia:dirty_select(Tab, "
                     "[{'_', [], ['$_']}])` returns a list of records)", [N])),
             floor_line(Rows, N)]
    end.

floor_line(Rows, N) ->
    case [Fs || {floor, get_many_floor, _, Fs} <- Rows] of
        [] -> [];
        [Fs | _] ->
            io_lib:format(
              "Floor, same run and VM: `maps:from_list/1` on ~b "
              "`{[gm, Bin], Payload}` pairs takes ~ts µs p50 (~ts µs p99, "
              "~ts ops/s); any implementation returning the SPEC's "
              "`#{Path => Data}` map pays at least that, the Mnesia list "
              "does not.~n~n",
              [N, num(field(p50_us, Fs), 1), num(field(p99_us, Fs), 1),
               num(field(ops_s, Fs), 0)])
    end.

keep_while_section(Rows) ->
    case [{P, Fs} || {khepri, keep_while, P, Fs} <- Rows] of
        [] -> [];
        [{P, Fs} | _] ->
            Fill = [F || {khepri, kw_fill, _, F} <- Rows],
            ["## keep_while cascade (khepri-rs only)\n\n",
             io_lib:format(
               "~b bindings `[x, bindings, <<\"bN\">>]`, each put with "
               "`#{keep_while => #{[q, <<\"q1\">>] => "
               "#if_node_exists{exists = true}}}`~ts; then one "
               "`khepri:delete(S, [q, <<\"q1\">>])`, timed in the caller, "
               "must remove them all (checked with `khepri:count/2`). "
               "Mnesia has no equivalent (no keep_while: an application "
               "deletes dependents itself), so there is no Mnesia "
               "column. The issue requires under 2 s; upstream Khepri "
               "needed ~~150 s before its fix.~n~n",
               [proplists:get_value(bindings, P),
                case Fill of
                    [F | _] -> io_lib:format(" (filled at ~ts ops/s)",
                                             [num(field(ops_s, F), 0)]);
                    [] -> ""
                end]),
             "| bindings | delete ms | bindings left | count after ms |\n"
             "|---:|---:|---:|---:|\n",
             io_lib:format("| ~b | ~ts | ~b | ~ts |~n~n",
                           [proplists:get_value(bindings, P),
                            num(field(delete_ms, Fs), 1), field(left, Fs),
                            num(field(count_ms, Fs), 1)])]
    end.

cluster_section(Rows) ->
    case [P || {_, cluster_put, P, _} <- Rows] of
        [] -> [];
        [P | _] ->
            N = proplists:get_value(nodes, P),
            [table(Rows, cluster_put,
                   io_lib:format(
                     "cluster_put (~b members on this machine: this VM and "
                     "~b peer VMs over loopback distribution, a data dir "
                     "each, all sharing its cores and disk; fresh key per op, "
                     "issued on the first member; khepri-rs: the others "
                     "joined it, so it leads, and a put returns once a "
                     "quorum (~b of ~b) has fdatasynced the entry; Mnesia: "
                     "`mnesia:transaction` on a `disc_copies` table on the "
                     "~b nodes, which returns after one round trip in which "
                     "the others accept the commit and after logging it "
                     "locally; the others log it once told the outcome, and "
                     "no log is fdatasynced)",
                     [N, N - 1, N div 2 + 1, N, N])),
             cluster_lines(Rows)]
    end.

cluster_lines(Rows) ->
    Setup = [io_lib:format("~s ~ts s", [name(B), num(field(setup_ms, Fs) / 1000, 1)])
             || {B, cluster_setup, _, Fs} <- Rows],
    Leads = [field(writer_leads, P) || {khepri, cluster_put, P, _} <- Rows],
    Checks = [io_lib:format("~s ~b keys (~s)",
                            [name(B), field(keys, Fs),
                             case field(replicas_agree, Fs) of
                                 true -> "same on every node";
                                 false -> "replicas DIFFER"
                             end])
              || {B, cluster_check, _, Fs} <- Rows],
    ["Setup (peer VMs booted, stores started, members joined, leader "
     "known): ", lists:join(", ", Setup), ". ",
     case Leads of
         [] -> "";
         _ -> case lists:all(fun(L) -> L =:= true end, Leads) of
                  true -> "The writer's node led at every level. ";
                  false -> "The writer's node did NOT lead at some level "
                           "(see writer_leads in bench/results/last.txt); "
                           "writes were forwarded to the leader. "
              end
     end,
     "Keys after the phase: ", lists:join(", ", Checks), ".\n\n"].

memory_section(Rows) ->
    Keys = lists:usort([proplists:get_value(keys, P)
                        || {_, memory, P, _} <- Rows]),
    case Keys of
        [] -> [];
        _ ->
            Conc = hd([proplists:get_value(conc, P)
                       || {_, memory, P, _} <- Rows]),
            F = fun(B, K) ->
                        case [Fs || {B1, memory, P, Fs} <- Rows, B1 =:= B,
                                    proplists:get_value(keys, P) =:= K] of
                            [Fs | _] -> Fs;
                            [] -> []
                        end
                end,
            ["## memory (fresh VM per backend)\n\n",
             io_lib:format(
               "Each backend in its own new `erl` OS process: RSS baseline "
               "(`VmRSS` of /proc/self/status) before the store starts, "
               "then fill `[bench, <<\"kN\">>]` keys (same payload) with ~b "
               "writers up to each checkpoint, GC every process, wait 1 s, "
               "measure. ", [Conc]),
             "RSS deltas include the store's start-up (code, NIF, "
             "threads), so the largest checkpoint is the per-key figure to "
             "quote. Disk is the byte size of the data directory: khepri-rs's "
             "Raft log segments (preallocated and zero-filled when opened, "
             "so the unused tail of the last one counts) and snapshots; "
             "Mnesia's `disc_copies` table files and transaction log. "
             "BEAM bytes: the `erlang:memory(total)` delta.\n\n"
             "| keys | khepri-rs RSS B/key | Mnesia RSS B/key | "
             "khepri-rs disk B/key | Mnesia disk B/key | "
             "khepri-rs BEAM B/key | Mnesia BEAM B/key | "
             "khepri-rs fill ops/s | Mnesia fill ops/s |\n"
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
             [begin
                  Kh = F(khepri, K),
                  Mn = F(mnesia, K),
                  io_lib:format(
                    "| ~b | ~ts | ~ts | ~ts | ~ts | ~ts | ~ts | ~ts | ~ts |~n",
                    [K, num(field(rss_bytes_per_key, Kh), 0),
                     num(field(rss_bytes_per_key, Mn), 0),
                     num(field(disk_bytes_per_key, Kh), 0),
                     num(field(disk_bytes_per_key, Mn), 0),
                     num(field(beam_bytes_per_key, Kh), 0),
                     num(field(beam_bytes_per_key, Mn), 0),
                     num(field(insert_ops_s, Kh), 0),
                     num(field(insert_ops_s, Mn), 0)])
              end || K <- Keys],
             "\n"]
    end.

table(Rows, W, Title) ->
    Concs = lists:usort([proplists:get_value(conc, P)
                         || {_, W1, P, _} <- Rows, W1 =:= W]),
    Keys = [proplists:get_value(keys, P) || {_, W1, P, _} <- Rows, W1 =:= W],
    KeyNote = case Keys of
                  [K | _] when is_integer(K) -> io_lib:format(", ~b keys", [K]);
                  _ -> ""
              end,
    [io_lib:format("## ~ts~ts~n~n", [Title, KeyNote]),
     "| clients | khepri-rs ops/s | Mnesia ops/s | ops/s ratio | "
       "khepri-rs p50 µs | Mnesia p50 µs | khepri-rs p99 µs | "
       "Mnesia p99 µs |\n"
       "|---:|---:|---:|---:|---:|---:|---:|---:|\n",
     [row(Rows, W, C) || C <- Concs], "\n"].

row(Rows, W, C) ->
    F = fun(B) ->
                case [Fs || {B1, W1, P, Fs} <- Rows, B1 =:= B, W1 =:= W,
                            proplists:get_value(conc, P) =:= C] of
                    [Fs | _] -> Fs;
                    [] -> []
                end
        end,
    K = F(khepri),
    M = F(mnesia),
    Ratio = case {field(ops_s, K), field(ops_s, M)} of
                {A, Bm} when is_number(A), is_number(Bm), Bm > 0 ->
                    io_lib:format("~.2f×", [A / Bm]);
                _ -> "–"
            end,
    io_lib:format("| ~b | ~ts | ~ts | ~ts | ~ts | ~ts | ~ts | ~ts |~n",
                  [C, num(field(ops_s, K), 0), num(field(ops_s, M), 0), Ratio,
                   num(field(p50_us, K), 1), num(field(p50_us, M), 1),
                   num(field(p99_us, K), 1), num(field(p99_us, M), 1)]).

num(undefined, _) -> "–";
num(V, 0) -> integer_to_list(round(V));
num(V, D) -> io_lib:format("~.*f", [D, float(V)]).

fill_lines(Rows) ->
    case [{B, P, Fs} || {B, fill, P, Fs} <- Rows] of
        [] -> [];
        [{_, P, _} | _] = Fills ->
            [io_lib:format("Pre-fill of the get keys (~b writers, not a timed "
                           "phase): ", [proplists:get_value(conc, P)]),
             lists:join(", ", [io_lib:format("~s ~s ops/s",
                                             [name(B), num(field(ops_s, Fs), 0)])
                               || {B, _, Fs} <- Fills]),
             ".\n\n"]
    end.

overload_lines(Rows) ->
    case [{proplists:get_value(conc, P), N}
          || {mnesia, put, P, Fs} <- Rows,
             N <- [proplists:get_value(mnesia_overload_warnings, Fs)],
             is_integer(N)] of
        [] -> [];
        Counts ->
            ["Mnesia \"overloaded\" warnings ({dump_log, write_threshold}: "
             "commits outpace its log dumps) during the put phases, warmup "
             "included: ",
             lists:join(", ", [io_lib:format("~b at ~b clients", [N, C])
                               || {C, N} <- Counts]),
             ".\n\n"]
    end.

errors(Rows) ->
    Bad = [io_lib:format("- ~s ~s ~0p: ~0p~n",
                         [name(B), W, P, proplists:get_value(errors, Fs,
                                                             Fs)])
           || {B, W, P, Fs} <- Rows,
              W =:= error orelse proplists:get_value(errors, Fs, 0) > 0],
    case Bad of
        [] -> [];
        _ -> ["### Errors\n\n", Bad, "\n"]
    end.

name(khepri) -> "khepri-rs";
name(mnesia) -> "Mnesia";
name(floor) -> "floor";
name(cluster) -> "cluster".
