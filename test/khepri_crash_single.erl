%% @doc The crash harness on a single member, an OS-level BEAM node killed
%% again and again with `kill -9' under write load. Each round restarts the
%% member on its data directory under its name, checks that every write
%% acknowledged before the earlier kills reads back, runs writers, and kills
%% the node at a random moment. A last start only checks.
-module(khepri_crash_single).

-export([run/1]).

-define(S, crash_single).
-define(WRITERS, 10).
-define(WRITE_TIMEOUT, 2000).
-define(SNAPSHOT_INTERVAL, 1000).
%% The kill comes this long (at most, drawn at random) after the first
%% acknowledged write of the round.
-define(MAX_LOAD_MS, 500).
-define(WAIT_MS, 60000).

%% @doc Runs `Kills' rounds on a fresh member; the figures (`kills',
%% `kinds', and the recorder's totals) or an exception for the first failure.
%% Runs in a process of its own (see `khepri_crash:run/2').
run(Kills) ->
    ok = khepri_test_helpers:ensure_distributed(),
    Config = #{cluster_name => ?S, machine_config => #{snapshot_interval => ?SNAPSHOT_INTERVAL}},
    Name = list_to_atom("khepri_crash_single_" ++ os:getpid()),
    Dir = khepri_test_helpers:tmp_dir("crash-single"),
    {ok, Recorder} = khepri_crash_recorder:start_link(),
    try
        Killed = lists:foldl(fun(I, M) -> round(I, Recorder, M) end,
                             khepri_crash_node:new(Name, Dir, Config), lists:seq(1, Kills)),
        Last = khepri_crash_node:start(Killed),
        ok = khepri_crash_check:no_loss(?S, Recorder, Last, Kills + 1),
        khepri_crash_node:stop(Last)
    catch
        Class:Reason:Stack ->
            khepri_crash:log("data directory kept: ~s", [Dir]),
            erlang:raise(Class, Reason, Stack)
    end,
    Summary = khepri_crash_recorder:summary(Recorder),
    ok = khepri_crash_recorder:stop(Recorder),
    _ = file:del_dir_r(Dir),
    maps:merge(maps:with([acked, timeout, noproc], Summary),
               #{kills => Kills, kinds => #{single => Kills}}).

round(I, Recorder, Member) ->
    T0 = erlang:monotonic_time(millisecond),
    Running = khepri_crash_node:start(Member),
    RecoveredMs = erlang:monotonic_time(millisecond) - T0,
    %% everything acknowledged before the earlier kills
    ok = khepri_crash_check:no_loss(?S, Recorder, Running, I),
    #{acked := Before} = khepri_crash_recorder:summary(Recorder),
    ok = khepri_crash_recorder:new_phase(Recorder),
    StartNs = os:system_time(nanosecond),
    Tags = [iolist_to_binary(io_lib:format("~b-~b", [I, W])) || W <- lists:seq(1, ?WRITERS)],
    ok = khepri_crash_recorder:start_writers(Recorder, maps:get(node, Running), ?S, Tags,
                                             ?WRITE_TIMEOUT),
    khepri_crash:wait_count(Recorder, #{outcome => ok, since => StartNs,
                                        nodes => [maps:get(node, Running)]},
                            1, {no_writes_before_kill, ?WAIT_MS}),
    khepri_crash:pause(rand:uniform(?MAX_LOAD_MS)),
    [Killed] = khepri_crash_node:kill([Running]),
    %% the writers died with the node: this only clears the recorder's list
    ok = khepri_crash_recorder:stop_writers(Recorder, ?WAIT_MS),
    #{acked := After} = khepri_crash_recorder:summary(Recorder),
    khepri_crash:log("single kill ~b: node booted and store recovered in ~b ms, all ~b acknowledged read back; "
                     "~b writes acknowledged before this kill; ~b ms",
                     [I, RecoveredMs, Before, After - Before,
                      erlang:monotonic_time(millisecond) - T0]),
    Killed.
