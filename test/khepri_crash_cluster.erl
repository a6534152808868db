%% @doc The crash harness on a 3-member cluster of OS-level BEAM nodes. One
%% cluster lives through all the trials (its data grows, snapshots are taken
%% and restarts recover from them). A trial:
%%
%% 1. writers on every member put distinct keys (`khepri_crash_writer');
%% 2. at a random moment, `kill -9' of a follower, of the leader, of two
%%    members at once, or of any member that is then killed again while it
%%    recovers (kinds in turn);
%% 3. one killed: the two others go on acknowledging writes. Two killed: the
%%    survivor's writes time out, and any write invoked after both were down
%%    and acknowledged before they restart is a violation;
%% 4. the killed members restart on their data directories under their names
%%    (for the last kind, the member is killed again at a random moment of its
%%    restart: while its store opens or catches up, then restarted again),
%%    and their writers acknowledge writes again;
%% 5. writers stop; every member knows a leader, has applied the same index
%%    and holds the same tree; every write acknowledged since the start of
%%    the run reads back, with its value, through a consistent read.
-module(khepri_crash_cluster).

%% Runs on the members.
-export([run/1, leader/1]).

-define(S, crash_store).
-define(MEMBERS, 3).
-define(WRITERS_PER_MEMBER, 3).
%% Per put: a write without quorum answers `{error, timeout}' after it.
-define(WRITE_TIMEOUT, 2000).
%% Small, so that snapshots are built (and purge the log) during the run.
-define(SNAPSHOT_INTERVAL, 1000).
%% Writes acknowledged before the kill, after it (by the survivors, one
%% killed) and after the restart (by the restarted members).
-define(MIN_BEFORE, 20).
-define(MIN_AFTER_KILL, 10).
-define(MIN_AFTER_RESTART, 5).
%% The kill comes this long (at most, drawn at random) after the first
%% writes; the killed members stay down this long more (at most) after
%% the condition of step 3.
-define(MAX_LOAD_MS, 1000).
-define(MAX_DOWN_MS, 500).
%% The second kill of a recovering member comes this long (at most, drawn at
%% random) after its store began to open.
-define(MAX_RECOVERY_MS, 1000).
%% Bound of every wait; the nodes share 2 cores with builds.
-define(WAIT_MS, 60000).
-define(KINDS, [follower, leader, two, recovering]).

%% @doc Runs `Trials' trials on a fresh cluster; the figures (`kills',
%% `kinds', and the recorder's totals) or an exception for the first failure.
%% Runs in a process of its own (see `khepri_crash:run/2'): on a failure,
%% its nodes halt with it.
run(Trials) ->
    ok = khepri_test_helpers:ensure_distributed(),
    Config = #{cluster_name => ?S, machine_config => #{snapshot_interval => ?SNAPSHOT_INTERVAL}},
    Members = [khepri_crash_node:new(name(I), khepri_test_helpers:tmp_dir("crash-cluster"), Config)
               || I <- lists:seq(1, ?MEMBERS)],
    {ok, Recorder} = khepri_crash_recorder:start_link(),
    Running = form_cluster(Members),
    {Final, Figures} =
        try
            lists:foldl(fun(I, {Ms, Fs}) -> trial(I, Recorder, Ms, Fs) end,
                        {Running, #{kills => 0, kinds => #{}}}, lists:seq(1, Trials))
        catch
            Class:Reason:Stack ->
                khepri_crash:log("data directories kept: ~p", [[D || #{dir := D} <- Members]]),
                erlang:raise(Class, Reason, Stack)
        end,
    [khepri_crash_node:stop(M) || M <- Final],
    Summary = khepri_crash_recorder:summary(Recorder),
    ok = khepri_crash_recorder:stop(Recorder),
    [_ = file:del_dir_r(Dir) || #{dir := Dir} <- Members],
    maps:merge(maps:with([acked, timeout, noproc], Summary), Figures).

name(I) ->
    list_to_atom(lists:flatten(io_lib:format("khepri_crash_~b_~s", [I, os:getpid()]))).

%% One join at a time: a membership change needs the previous one committed.
form_cluster(Members) ->
    [First | Others] = Running = [khepri_crash_node:start(M) || M <- Members],
    #{node := FirstNode} = First,
    [ok = khepri_crash_node:call(M, khepri_cluster, join, [?S, FirstNode]) || M <- Others],
    [ok = khepri_crash_node:call(M, khepri_cluster, wait_for_leader, [?S, ?WAIT_MS])
     || M <- Running],
    Running.

trial(I, Recorder, Members, #{kills := Kills, kinds := Kinds}) ->
    T0 = erlang:monotonic_time(millisecond),
    Kind = lists:nth((I - 1) rem length(?KINDS) + 1, ?KINDS),
    Before = khepri_crash_recorder:summary(Recorder),
    ok = khepri_crash_recorder:new_phase(Recorder),
    StartNs = os:system_time(nanosecond),
    [start_writers(Recorder, I, load, M) || M <- Members],
    wait_count(Recorder, ok, StartNs, Members, ?MIN_BEFORE, no_writes_before_kill),
    khepri_crash:pause(rand:uniform(?MAX_LOAD_MS)),

    TKill = erlang:monotonic_time(millisecond),
    Leader = find_leader(Members),
    Victims = victims(Kind, Leader, Members),
    Killed = khepri_crash_node:kill(Victims),
    DownNs = os:system_time(nanosecond),
    Survivors = [M || M <- Members, not lists:member(M, Victims)],
    case Survivors of
        [_, _] ->
            wait_count(Recorder, ok, DownNs, Survivors, ?MIN_AFTER_KILL,
                       majority_does_not_serve);
        [_] ->
            ok = khepri_crash_recorder:no_quorum(Recorder, DownNs),
            wait_count(Recorder, timeout, DownNs, Survivors, 1, minority_write_not_timed_out)
    end,
    khepri_crash:pause(rand:uniform(?MAX_DOWN_MS)),

    ok = khepri_crash_recorder:quorum_back(Recorder),
    TRestart = erlang:monotonic_time(millisecond),
    {Restarted, Notes} = lists:unzip([restart(Kind, M) || M <- Killed]),
    RestartNs = os:system_time(nanosecond),
    TRestarted = erlang:monotonic_time(millisecond),
    [start_writers(Recorder, I, restarted, M) || M <- Restarted],
    wait_count(Recorder, ok, RestartNs, Restarted, ?MIN_AFTER_RESTART,
               restarted_members_do_not_serve),
    TServing = erlang:monotonic_time(millisecond),
    ok = khepri_crash_recorder:stop_writers(Recorder, ?WAIT_MS),

    Running = Survivors ++ Restarted,
    Checked = check(I, Recorder, Running),
    After = khepri_crash_recorder:summary(Recorder),
    TEnd = erlang:monotonic_time(millisecond),
    khepri_crash:log("cluster trial ~b, ~s: killed ~s~s; ~b writes acknowledged, ~b timed out; "
                     "converged at index ~b, ~b keys, all ~b acknowledged read back; "
                     "~b ms (load ~b, kill and down ~b, restart ~b, restarted serving ~b, "
                     "stop and check ~b)",
                     [I, Kind, victim_names(Victims, Leader), Notes, delta(acked, Before, After),
                      delta(timeout, Before, After), maps:get(index, Checked),
                      maps:get(keys, Checked), maps:get(acked, After), TEnd - T0,
                      TKill - T0, TRestart - TKill, TRestarted - TRestart,
                      TServing - TRestarted, TEnd - TServing]),
    {sort(Running), #{kills => Kills + length(Victims) + case Kind of recovering -> 1; _ -> 0 end,
                      kinds => maps:update_with(Kind, fun(N) -> N + 1 end, 1, Kinds)}}.

%% A member's writers are new per trial and per incarnation: their tags are
%% unique in the run.
start_writers(Recorder, Trial, Phase, #{name := Name, node := Node}) ->
    Tags = [iolist_to_binary(io_lib:format("~b-~s-~s-~b", [Trial, Phase, short(Name), W]))
            || W <- lists:seq(1, ?WRITERS_PER_MEMBER)],
    ok = khepri_crash_recorder:start_writers(Recorder, Node, ?S, Tags, ?WRITE_TIMEOUT).

wait_count(Recorder, Outcome, Since, Members, Min, What) ->
    khepri_crash:wait_count(
      Recorder, #{outcome => Outcome, since => Since, nodes => [N || #{node := N} <- Members]},
      Min, {What, ?WAIT_MS}).

%% Step 5: fails on divergence, on a lost acknowledged write (read on one
%% member, in turn: the trees are identical) or on a violation the recorder
%% saw.
check(I, Recorder, Members) ->
    Agreed = case khepri_crash_check:converge(?S, Members, ?WAIT_MS) of
                 {ok, A} -> A;
                 {error, Samples} -> erlang:error({no_convergence, I, Samples})
             end,
    Reader = lists:nth((I - 1) rem length(Members) + 1, Members),
    ok = khepri_crash_check:no_loss(?S, Recorder, Reader, I),
    Agreed.

%% The member every member names as leader (all agree).
find_leader(Members) ->
    Self = self(),
    Ref = make_ref(),
    ok = khepri_test_helpers:wait_until(
           fun() ->
                   Named = lists:usort([khepri_crash_node:call(M, ?MODULE, leader, [?S])
                                        || M <- Members]),
                   case [M || #{node := N} = M <- Members, Named =:= [atom_to_binary(N)]] of
                       [L] -> Self ! {Ref, L}, true;
                       [] -> false
                   end
           end, ?WAIT_MS),
    receive {Ref, L} -> L after 0 -> erlang:error(lost_leader) end.

%% @private Runs on a member: the node name (binary) of the leader it
%% knows, or `undefined'.
leader(S) ->
    case khepri_store:engine(S) of
        {ok, Engine} -> khepri_nif:leader(Engine);
        error -> undefined
    end.

victims(leader, Leader, _Members) ->
    [Leader];
victims(follower, Leader, Members) ->
    [pick(Members -- [Leader])];
victims(two, _Leader, Members) ->
    Spared = pick(Members),
    Members -- [Spared];
victims(recovering, _Leader, Members) ->
    [pick(Members)].

%% Step 4: the running member, and a note for the trial's line.
restart(recovering, Member) ->
    Booted = khepri_crash_node:boot(Member),
    %% the open fails when the node is killed: not an error to report
    {Opener, MRef} = spawn_monitor(fun() ->
                                           exit(try khepri_crash_node:open(Booted)
                                                catch _:_ -> not_opened
                                                end)
                                   end),
    Delay = rand:uniform(?MAX_RECOVERY_MS),
    khepri_crash:pause(Delay),
    [Killed] = khepri_crash_node:kill([Booted]),
    %% the open either completed or failed with the node
    Opened = receive {'DOWN', MRef, process, Opener, R} -> R =:= ok
             after ?WAIT_MS -> erlang:error(open_not_ended)
             end,
    Note = io_lib:format(", again ~b ms into its restart (~s)",
                         [Delay, case Opened of
                                     true -> "its store open";
                                     false -> "its store opening"
                                 end]),
    {khepri_crash_node:start(Killed), Note};
restart(_, Member) ->
    {khepri_crash_node:start(Member), ""}.

pick(List) ->
    lists:nth(rand:uniform(length(List)), List).

victim_names(Victims, Leader) ->
    lists:join(" and ", [[short(maps:get(name, V)), case V of Leader -> " (leader)"; _ -> "" end]
                         || V <- Victims]).

%% `khepri_crash_<I>_<Pid>' is shown as `<I>'.
short(Name) ->
    lists:nth(3, string:split(atom_to_list(Name), "_", all)).

sort(Members) ->
    lists:sort(fun(#{name := A}, #{name := B}) -> A =< B end, Members).

delta(Key, Before, After) ->
    maps:get(Key, After) - maps:get(Key, Before).
