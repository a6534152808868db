%% @doc Snapshots and compaction through the Erlang API: the snapshot rules
%% of `machine_config' are validated and reach the engine (the time rule
%% fires on a store written slowly), a snapshot asked for covers what was
%% written before and survives a restart.
-module(khepri_compaction_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

-import(khepri_test_helpers, [tmp_dir/1, wait_until/2]).

bad_snapshot_rules_are_refused_test() ->
    Dir = tmp_dir("rules"),
    Bad = [{snapshot_interval, 0}, {snapshot_interval, -1}, {snapshot_interval, 1 bsl 64},
           {snapshot_interval, 1.5}, {snapshot_time_interval, -1},
           {snapshot_time_interval, forever}, {unreleased_command_footprint_threshold, -1},
           {unreleased_command_footprint_threshold, <<"1">>}, {log_to_snapshot_ratio, -0.5},
           {log_to_snapshot_ratio, 1.0e7}, {log_to_snapshot_ratio, two}],
    [?assertError(?khepri_exception(invalid_option, #{option := K, value := V}),
                  khepri:start(Dir, #{cluster_name => rules1,
                                      machine_config => #{K => V}}))
     || {K, V} <- Bad],
    ?assertEqual([], [S || S <- khepri:get_store_ids(), S =:= rules1]),
    _ = file:del_dir_r(Dir).

%% Written slowly (a few puts), a store snapshots once the time interval
%% passed, then not again until something else is written.
time_rule_snapshots_a_quiet_store_test_() ->
    {timeout, 60, fun() ->
        Dir = tmp_dir("time_rule"),
        Config = #{cluster_name => cp1,
                   machine_config => #{snapshot_interval => 1000000,
                                       snapshot_time_interval => 100,
                                       unreleased_command_footprint_threshold => 0,
                                       log_to_snapshot_ratio => 3}},
        {ok, cp1} = khepri:start(Dir, Config),
        try
            {ok, #{builds := 0}} = khepri_compaction:info(cp1),
            [ok = khepri:put(cp1, [k, integer_to_binary(N)], N) || N <- lists:seq(1, 5)],
            Applied = khepri_test_helpers:engine_log_index(cp1),
            wait_until(fun() ->
                               {ok, I} = khepri_compaction:info(cp1),
                               maps:get(snapshot_index, I) >= Applied
                       end, 20000),
            {ok, #{builds := Builds}} = khepri_compaction:info(cp1),
            ?assert(Builds >= 1),
            %% Nothing applied since: the rule stays quiet. Waited for on
            %% the engine's own clock: four more intervals.
            timer:sleep(400),
            ?assertMatch({ok, #{builds := Builds, entries_since := 0}},
                         khepri_compaction:info(cp1))
        after
            ok = khepri:stop(cp1),
            _ = file:del_dir_r(Dir)
        end
    end}.

%% With the rules of a store that never snapshots by itself, a snapshot
%% asked for covers every write before the call; after a restart the store
%% starts from it.
snapshot_on_demand_test_() ->
    {timeout, 60, fun() ->
        Dir = tmp_dir("on_demand"),
        Config = #{cluster_name => cp2,
                   machine_config => #{snapshot_interval => 1 bsl 40,
                                       snapshot_time_interval => infinity}},
        {ok, cp2} = khepri:start(Dir, Config),
        try
            [ok = khepri:put(cp2, [k, integer_to_binary(N)], N) || N <- lists:seq(1, 300)],
            Applied = khepri_test_helpers:engine_log_index(cp2),
            {ok, #{index := Index, bytes := Bytes, build_us := Us}} =
                khepri_compaction:snapshot(cp2),
            ?assert(Index >= Applied),
            ?assert(is_integer(Us) andalso Us >= 0),
            File = filename:join([Dir, "cp2", "snapshot", "snapshot"]),
            ?assertEqual(Bytes, filelib:file_size(File)),
            {ok, Info} = khepri_compaction:info(cp2),
            ?assertMatch(#{snapshot_index := Index, snapshot_bytes := Bytes}, Info),
            ok = khepri:stop(cp2),
            ?assertEqual({error, noproc}, khepri_compaction:snapshot(cp2)),
            {ok, cp2} = khepri:start(Dir, Config),
            ?assertMatch({ok, #{snapshot_index := Index}}, khepri_compaction:info(cp2)),
            [?assertEqual({ok, N}, khepri:get(cp2, [k, integer_to_binary(N)])) || N <- lists:seq(1, 300)]
        after
            ok = khepri:stop(cp2),
            _ = file:del_dir_r(Dir)
        end
    end}.
