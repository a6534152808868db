%% @doc The short version of the crash harness that CI runs (see
%% `khepri_crash'): 5 trials on a 3-member cluster, 5 kills of a single
%% member, each under write load with `kill -9'. The full run is
%% `test/crash/run.sh' (50 and 50).
-module(khepri_crash_tests).

-include_lib("eunit/include/eunit.hrl").

-define(TRIALS, 5).

cluster_members_killed_under_load_test_() ->
    {timeout, 900, fun() ->
        ?assertMatch({ok, #{acked := N, kills := K}} when N > 0 andalso K >= ?TRIALS,
                     khepri_crash:run(cluster, ?TRIALS))
    end}.

single_member_killed_under_load_test_() ->
    {timeout, 600, fun() ->
        ?assertMatch({ok, #{acked := N, kills := ?TRIALS}} when N > 0,
                     khepri_crash:run(single, ?TRIALS))
    end}.
