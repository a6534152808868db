%% @doc The crash harness (issue 7, part 4): members killed with `kill -9'
%% under write load must lose no acknowledged write and must converge to
%% identical trees. Two variants: `khepri_crash_cluster' (3 members,
%% killing a follower, the leader, two at once, or a member again while it
%% restarts) and `khepri_crash_single' (one member killed again and again). `test/crash/run.sh' runs both
%% through `main/1'; `khepri_crash_tests' runs a short version in CI.
-module(khepri_crash).

%% Far above what a trial takes (a few seconds to tens of seconds).
-define(MAX_TRIAL_MS, 600000).

-export([main/1, run/2, log/2, pause/1, wait_count/4]).

%% @doc The harness's command line: `[ClusterTrials, SingleKills]' as strings.
%% Runs both variants, prints their figures and halts with status 0 when
%% both passed, 1 otherwise.
main([ClusterTrials, SingleKills]) ->
    ok = khepri_test_helpers:ensure_distributed(),
    Results = [run(Variant, list_to_integer(N))
               || {Variant, N} <- [{cluster, ClusterTrials}, {single, SingleKills}],
                  list_to_integer(N) > 0],
    Failed = [R || {error, _} = R <- Results],
    log("~s", [case Failed of [] -> "PASSED"; _ -> "FAILED" end]),
    erlang:halt(case Failed of [] -> 0; _ -> 1 end).

%% @doc Runs `Trials' trials of `cluster' or `single' and prints the figures:
%% `{ok, Figures}', or `{error, Reason}' for the first failing trial (the
%% data directories are then kept and named in the output). The trials run
%% in a process of their own: the member nodes are linked to it, so they
%% halt when it ends, whatever the outcome.
run(Variant, Trials) ->
    Seed = erlang:system_time(microsecond),
    Module = list_to_atom("khepri_crash_" ++ atom_to_list(Variant)),
    log("~s: ~b trials, random seed ~b", [Variant, Trials, Seed]),
    T0 = erlang:monotonic_time(millisecond),
    {Pid, MRef} = spawn_monitor(fun() ->
                                        _ = rand:seed(exsss, Seed),
                                        exit({done, Module:run(Trials)})
                                end),
    %% every wait of a trial is bounded; this only guards against a bug
    receive
        {'DOWN', MRef, process, Pid, {done, Figures}} ->
            Ms = erlang:monotonic_time(millisecond) - T0,
            log("~s: ~b trials passed in ~.1f s: ~b kills (~s), ~b acknowledged writes "
                "all read back, ~b timed out, ~b not sent (store restarting)",
                [Variant, Trials, Ms / 1000, maps:get(kills, Figures),
                 kinds(maps:get(kinds, Figures)), maps:get(acked, Figures),
                 maps:get(timeout, Figures), maps:get(noproc, Figures)]),
            {ok, Figures#{seconds => Ms / 1000}};
        {'DOWN', MRef, process, Pid, Reason} ->
            log("~s: FAILED: ~tp", [Variant, Reason]),
            {error, Reason}
    after Trials * ?MAX_TRIAL_MS ->
        exit(Pid, kill),
        log("~s: FAILED: no result after ~b ms", [Variant, Trials * ?MAX_TRIAL_MS]),
        {error, harness_timeout}
    end.

kinds(Kinds) ->
    lists:join(", ", [io_lib:format("~s ~b", [K, N]) || {K, N} <- lists:sort(maps:to_list(Kinds))]).

%% @doc Prints a line of the harness's output.
log(Format, Args) ->
    io:format(user, "[crash] " ++ Format ++ "~n", Args).

%% @doc Workload timing (how long the load runs before a kill), never
%% synchronisation.
pause(Ms) ->
    receive after Ms -> ok end.

%% @doc Waits until the recorder counted at least `Min' writes matching
%% `Filter' (see `khepri_crash_recorder:count/2'); fails with `What' after
%% `TimeoutMs'.
wait_count(Recorder, Filter, Min, {What, TimeoutMs}) ->
    try
        khepri_test_helpers:wait_until(
          fun() -> khepri_crash_recorder:count(Recorder, Filter) >= Min end, TimeoutMs)
    catch
        error:condition_not_met_in_time ->
            erlang:error({What, Filter, khepri_crash_recorder:count(Recorder, Filter)})
    end.
