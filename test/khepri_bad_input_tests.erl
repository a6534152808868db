%% @doc Randomized bad-input test (issue 3, item 6).
%%
%% Throws more than 100,000 generated argument lists (random terms of every
%% type, near-valid paths, conditions, options, payloads and store ids) at
%% every public function implemented so far, in the test process. Each call
%% must either return a value whose shape is documented for that function
%% (SPEC 1.2 and section 2), return `{error, {khepri, Name, Props}}' with
%% `Name' in the SPEC catalogue (1.2), `{error, noproc}' or `{error,
%% timeout}', or raise:
%%
%% <ul>
%% <li>`error:{khepri_ex, Name, Props}' with `Name' in the catalogue;</li>
%% <li>`error:function_clause' (or `badarg') raised by the head of the public
%% function called (or of the public function it delegates to under the same
%% name: a bang variant, `khepri_cluster' to `khepri'), that is a guard
%% mismatch on a store id or options argument, as upstream;</li>
%% <li>an exception raised by a user fun given to the call (fold callbacks
%% and the like).</li>
%% </ul>
%%
%% Anything else (badmatch, case_clause, a crash inside the library, a
%% NIF panic, a call taking more than 10 s, the store process dying) is a
%% failure. Library bugs that are known but not fixed yet are listed in
%% `known_gaps/0' with the behaviour the SPEC asks for.
%%
%% Before the random phase known nodes are written; afterwards they must
%% read back unchanged, keep_while must still work, the store must still
%% accept writes and the atom table must not have grown (only a fixed set of
%% atoms is ever generated; `:name' path segments only use fixed names).
%%
%% Random writes are confined to the `[scratch]' subtree (a write whose path
%% parses to a node elsewhere is moved under `scratch'; paths that do not
%% parse are given as they are, they must be refused anyway), which is
%% deleted every few hundred calls.
%%
%% Replay: the seed is printed at start. Environment variables:
%% `KHEPRI_BAD_INPUT_SEED=A,B,C' (seed), `KHEPRI_BAD_INPUT_CALLS=N' (number
%% of random calls), `KHEPRI_BAD_INPUT_TRACE=File' (append every call to
%% `File' before running it, to find the call that brought a VM down).
%%
%% `run_sproc' is covered (the known sproc run with good and bad
%% arguments). Not covered here: transactions, triggers, projection
%% registration, async result handling, export/import, clustering (their
%% bad input is tested in their own suites);
%% `khepri:stop/0' and `khepri_cluster:stop/0' are only called at the end
%% (they stop the store under test).
-module(khepri_bad_input_tests).

-include_lib("eunit/include/eunit.hrl").
-include("khepri.hrl").

%% The store under test is the default store, so that the forms without a
%% store id reach a running store too.
-define(STORE, khepri).
%% Tag of every exception raised by the user funs this test passes.
-define(MARK, bad_input_user_fun).
%% Value returned by a filter predicate that breaks its contract.
-define(NOT_BOOL, not_a_boolean_marker).
-define(CALL_LIMIT_MS, 10000).
-define(DEFAULT_SEED, {16#6b68, 16#6570, 16#7269}).
-define(DEFAULT_CALLS, 110000).
-define(MIN_CALLS, 100000).
-define(WARM_UP_PER_ENTRY, 5).
-define(CLEANUP_EVERY, 400).
-define(MAX_FAILURES, 20).
%% Atoms created during the calls (none expected, beside the atoms of OTP
%% modules loaded on first use) and between them (by other processes).
-define(ATOM_GROWTH_BOUND, 1).
-define(OTHER_ATOMS_BOUND, 10).

-define(R(N), rand:uniform(N)).

-define(IS_BANG(Ret), (Ret =:= bang_any orelse Ret =:= bang_map orelse
                       Ret =:= bang_bool orelse Ret =:= bang_count orelse
                       Ret =:= bang_ok)).

-define(PUBLIC_MODULES, [khepri, khepri_adv, khepri_path, khepri_condition,
                         khepri_evf, khepri_payload, khepri_projection,
                         khepri_cluster]).

-export([known_sproc/0]).

bad_input_test_() ->
    {timeout, 600, fun run/0}.

%% -------------------------------------------------------------------
%% Known library gaps.
%% -------------------------------------------------------------------

%% Cases the classifier would report as failures, caused by library bugs
%% that are known and not fixed yet. Each entry: `{Id, Match, Expected}'
%% where `Match(M, F, Args, Outcome)' tells whether a failing call is that
%% case (`Outcome' is `{return, Value}' or `{raise, Class, Reason, Stack}')
%% and `Expected' is what the SPEC asks for instead. Remove an entry once
%% the bug is fixed: the test then checks the case like any other.
known_gaps() ->
    [].

%% Sizes of generated input. They go past what used to kill the VM (a
%% condition nested ~400 deep overflowed the NIF's stack; a khepri_adv
%% result over ~128 nodes crashed while being built; a path of tens of
%% thousands of components exhausted memory): the API now refuses conditions
%% nested deeper than 100 and paths longer than 1024 components with
%% `invalid_path', and adv results of any size are returned.
-define(MAX_CONDITION_NESTING, 1000).
-define(MAX_PATH_LENGTH, 2000).
-define(MAX_SCRATCH_FOR_ADV_WRITES, 100000).

%% -------------------------------------------------------------------
%% Driver.
%% -------------------------------------------------------------------

run() ->
    Seed = seed(),
    NCalls = n_calls(),
    io:format(user, "~n~s: seed ~p, ~b random calls "
              "(replay with KHEPRI_BAD_INPUT_SEED=~s)~n",
              [?MODULE, Seed, NCalls, seed_to_string(Seed)]),
    _ = rand:seed(exsss, Seed),
    [{module, _} = code:ensure_loaded(M) || M <- ?PUBLIC_MODULES],
    Dir = khepri_test_helpers:tmp_dir("bad_input"),
    _ = application:load(khepri),
    OldRaSystem = application:get_env(khepri, default_ra_system),
    %% start/0,1 use the default data directory: keep it in the temp dir.
    ok = application:set_env(khepri, default_ra_system, Dir),
    {ok, ?STORE} = khepri:start(Dir, ?STORE),
    OldLevel = maps:get(level, logger:get_primary_config()),
    try
        setup_context(Dir),
        Known = write_known(),
        Snapshot = snapshot(),
        StorePid = whereis(?STORE),
        true = is_pid(StorePid),
        Atoms0 = erlang:system_info(atom_count),
        %% Warnings of ignored Ra options and public projections would
        %% flood the output; errors (crash reports) stay visible.
        ok = logger:set_primary_config(level, error),
        T0 = erlang:monotonic_time(millisecond),
        State = random_phase(NCalls, StorePid),
        Elapsed = erlang:monotonic_time(millisecond) - T0,
        ok = logger:set_primary_config(level, OldLevel),
        Atoms1 = erlang:system_info(atom_count),
        print_distribution(State),
        [io:format(user, "~s: modules loaded during the random phase: ~p~n",
                   [?MODULE, NewModules])
         || NewModules <- [erlang:loaded() -- maps:get(loaded_at_start, State)],
            NewModules =/= []],
        #{calls := Calls, failures := Failures, nfail := NFail,
          gap_hits := GapHits, atoms_unexplained := Unexplained} = State,
        io:format(user, "~s: ~b calls in ~.1f s; atoms: ~b -> ~b (~b not "
                  "from module loading); ~b failing calls (~b distinct)~n",
                  [?MODULE, Calls, Elapsed / 1000, Atoms0, Atoms1,
                   Unexplained, NFail, length(Failures)]),
        print_gaps(GapHits),
        PostProblems = post_checks(Known, Snapshot, StorePid),
        #{module_load_atoms := ModuleAtoms} = State,
        OtherAtoms = Atoms1 - Atoms0 - ModuleAtoms,
        AtomProblems = case Unexplained < ?ATOM_GROWTH_BOUND andalso
                            OtherAtoms < ?OTHER_ATOMS_BOUND of
                           true -> [];
                           false -> [{atom_table_grew, Atoms0, Atoms1,
                                      Unexplained}]
                       end,
        print_failures(lists:reverse(Failures)),
        print_signatures(State),
        [io:format(user, "POST-CHECK PROBLEM: ~0P~n", [P, 40])
         || P <- PostProblems ++ AtomProblems],
        %% A shorter run may be asked for while debugging.
        ?assert(Calls >= ?MIN_CALLS orelse
                os:getenv("KHEPRI_BAD_INPUT_CALLS") =/= false),
        ?assertEqual({[], 0}, {[Key || {Key, _} <- Failures], NFail}),
        ?assertEqual([], PostProblems ++ AtomProblems)
    after
        _ = logger:set_primary_config(level, OldLevel),
        [_ = khepri:stop(S) || S <- khepri:get_store_ids(), S =/= ?STORE],
        %% stop/0 stops the default store, which is the one under test.
        _ = khepri:stop(),
        _ = khepri_cluster:stop(),
        case OldRaSystem of
            {ok, V} -> application:set_env(khepri, default_ra_system, V);
            undefined -> application:unset_env(khepri, default_ra_system)
        end,
        _ = file:del_dir_r(Dir)
    end.

seed() ->
    case os:getenv("KHEPRI_BAD_INPUT_SEED") of
        false -> ?DEFAULT_SEED;
        Str ->
            case [list_to_integer(string:trim(S))
                  || S <- string:lexemes(Str, ",")] of
                [A, B, C] -> {A, B, C};
                [A] -> {A, A + 1, A + 2}
            end
    end.

seed_to_string({A, B, C}) ->
    lists:flatten(io_lib:format("~b,~b,~b", [A, B, C])).

max_failures() ->
    case os:getenv("KHEPRI_BAD_INPUT_MAX_FAILURES") of
        false -> ?MAX_FAILURES;
        Str -> list_to_integer(Str)
    end.

n_calls() ->
    case os:getenv("KHEPRI_BAD_INPUT_CALLS") of
        false -> ?DEFAULT_CALLS;
        Str -> list_to_integer(Str)
    end.

%% Values the generators need, kept in the process dictionary.
setup_context(Dir) ->
    Dead = spawn(fun() -> ok end),
    Ref = monitor(process, Dead),
    receive {'DOWN', Ref, process, Dead, _} -> ok end,
    Port = case erlang:ports() of
               [P | _] -> P;
               [] -> make_ref()
           end,
    %% Modules loaded on first use by other processes (crash reports of
    %% stores failing to start are formatted by the logger) would add
    %% their atoms at random moments: load them now. A first store stop
    %% also creates one atom once per VM.
    [_ = code:ensure_loaded(M)
     || M <- [erl_error, logger_formatter, io_lib_pretty, proc_lib,
              supervisor, re, unicode, unicode_util, filename,
              erl_stdlib_errors, erl_erts_errors, erl_internal, ordsets,
              sets, string, binary]],
    {ok, bi_extra_2} = khepri:start(Dir, bi_extra_2),
    ok = khepri:stop(bi_extra_2),
    erlang:put(bi_dir, Dir),
    erlang:put(bi_dead_pid, Dead),
    erlang:put(bi_port, Port),
    erlang:put(bi_evf, khepri_evf:tree([foo])),
    erlang:put(bi_projection, khepri_projection:new(foo, copy)),
    ok.

%% -------------------------------------------------------------------
%% Known nodes, written before and checked after the random phase.
%% -------------------------------------------------------------------

known_sproc() -> known_sproc_result.

known_data() ->
    [{[known, a], <<"alpha">>},
     {[known, b], #{map => 1, list => [1, 2, 3], float => 1.5}},
     {[known, c, d], 1 bsl 80},
     {[known, <<"bin">>], {tuple, "string", -42}},
     {[known, sproc], fun ?MODULE:known_sproc/0}].

known_paths() ->
    [[known], [known, a], [known, b], [known, c], [known, c, d],
     [known, <<"bin">>], [known, sproc], [known, kw]].

write_known() ->
    [ok = khepri:put(?STORE, P, D) || {P, D} <- known_data()],
    %% `kw' lives while `a' exists.
    ok = khepri:put(?STORE, [known, kw], kw_data,
                    #{keep_while => #{[known, a] => #if_node_exists{}}}),
    known_data() ++ [{[known, kw], kw_data}].

snapshot() ->
    Opts = #{props_to_return => [payload, payload_version, child_list_version,
                                 child_list_length, child_names, has_payload]},
    {khepri_adv:get(?STORE, [known], Opts),
     khepri_adv:get_many(?STORE, [known, ?KHEPRI_WILDCARD_STAR_STAR], Opts)}.

post_checks(Known, Snapshot, StorePid) ->
    flush(),
    Checks =
        [{store_process_alive,
          fun() -> whereis(?STORE) =:= StorePid andalso
                       is_process_alive(StorePid) end},
         {known_props_unchanged, fun() -> snapshot() =:= Snapshot end},
         {known_data_reads_back,
          fun() -> lists:all(fun({P, D}) -> khepri:get(?STORE, P) =:= {ok, D}
                             end, Known) end},
         {only_known_and_scratch_at_top_level,
          fun() ->
                  {ok, Top} = khepri:get_many(?STORE, [?KHEPRI_WILDCARD_STAR]),
                  lists:all(fun(P) -> lists:member(P, [[known], [scratch]]) end,
                            maps:keys(Top))
          end},
         {store_accepts_writes,
          fun() -> ok =:= khepri:put(?STORE, [after_check, x], 1) andalso
                       {ok, 1} =:= khepri:get(?STORE, [after_check, x]) andalso
                       ok =:= khepri:delete(?STORE, [after_check]) end},
         {keep_while_still_enforced,
          fun() -> khepri:exists(?STORE, [known, kw]) andalso
                       ok =:= khepri:delete(?STORE, [known, a]) andalso
                       not khepri:exists(?STORE, [known, kw]) end},
         {async_and_scratch_cleanup,
          fun() -> ok =:= khepri:delete(?STORE, [scratch]) andalso
                       {ok, 0} =:= khepri:count(?STORE, [scratch]) end}],
    lists:flatmap(
      fun({Name, Check}) ->
              try Check() of
                  true -> [];
                  Other -> [{Name, Other}]
              catch C:R:St -> [{Name, C, R, top_frames(St)}]
              end
      end, Checks).

%% -------------------------------------------------------------------
%% Random phase.
%% -------------------------------------------------------------------

random_phase(NCalls, StorePid) ->
    Entries = list_to_tuple(entries()),
    Indexed = lists:zip(lists:seq(1, tuple_size(Entries)),
                        tuple_to_list(Entries)),
    Weighted = list_to_tuple(
                 lists:append([lists:duplicate(W, I)
                               || {I, #{w := W}} <- Indexed])),
    Tab = ets:new(?MODULE, [public, set]),
    Trace = case os:getenv("KHEPRI_BAD_INPUT_TRACE") of
                false -> undefined;
                File -> {ok, Fd} = file:open(File, [append, raw]), Fd
            end,
    Watchdog = start_watchdog(self(), Tab),
    OldGL = group_leader(),
    Null = spawn(fun null_io/0),
    %% info/0,1,2 print the tree: keep it out of the test output.
    group_leader(Null, self()),
    State0 = #{calls => 0, tally => #{}, failures => [], nfail => 0,
               gap_hits => #{}, tab => Tab, trace => Trace,
               store_pid => StorePid, sigs => #{}, atom_calls => [],
               loaded => length(erlang:loaded()), atoms_unexplained => 0,
               module_load_atoms => 0,
               loaded_at_start => erlang:loaded()},
    try
        %% Every entry a few times first, in order, then random picks.
        State1 = lists:foldl(
                   fun(E, S) ->
                           lists:foldl(fun(_, S1) -> step(E, S1) end, S,
                                       lists:seq(1, ?WARM_UP_PER_ENTRY))
                   end, State0, tuple_to_list(Entries)),
        loop(NCalls, Entries, Weighted, State1)
    after
        group_leader(OldGL, self()),
        Null ! stop,
        Watchdog ! stop,
        case Trace of
            undefined -> ok;
            Fd1 -> file:close(Fd1)
        end,
        ets:delete(Tab)
    end.

loop(0, _Entries, _Weighted, State) ->
    State;
loop(N, Entries, Weighted, State) ->
    I = element(?R(tuple_size(Weighted)), Weighted),
    loop(N - 1, Entries, Weighted, step(element(I, Entries), State)).

step(Entry, #{calls := Calls} = State) ->
    State1 = one_call(Entry, State#{calls := Calls + 1}),
    case (Calls + 1) rem ?CLEANUP_EVERY of
        0 -> housekeeping(State1);
        _ -> State1
    end.

%% Deletes the scratch subtree and checks the store process is still there.
housekeeping(#{calls := Calls, store_pid := StorePid} = State) ->
    flush(),
    State1 = case is_process_alive(StorePid) of
                 true -> State;
                 false -> add_failure({store_process_died}, store_died,
                                      State)
             end,
    case Calls rem 10000 of
        0 -> io:format(user, "~s: ~b calls~n", [?MODULE, Calls]);
        _ -> ok
    end,
    lists:foldl(
      fun(S, St) ->
              case catch khepri:delete(S, [scratch], #{timeout => 10000}) of
                  ok -> St;
                  {error, noproc} -> St;   % stopped meanwhile
                  Other -> add_failure({cleanup_failed, S},
                                       {cleanup_failed, S, Other}, St)
              end
      end, State1, khepri:get_store_ids()).

%% See gap `adv_result_over_128_entries_crashes_vm'.
limit_scratch(#{m := khepri_adv, group := write}) ->
    lists:foreach(
      fun(S) ->
              case khepri:count(S, [scratch, ?KHEPRI_WILDCARD_STAR_STAR]) of
                  {ok, N} when N > ?MAX_SCRATCH_FOR_ADV_WRITES ->
                      ok = khepri:delete(S, [scratch], #{timeout => 10000});
                  _ ->
                      ok
              end
      end, khepri:get_store_ids());
limit_scratch(_Entry) ->
    ok.

one_call(#{m := M, f := F, a := A, gen := Gen} = Entry,
         #{tab := Tab, calls := Seq} = State) ->
    Args = prepare_args(Entry, [sanitize(Arg) || Arg <- Gen()]),
    ok = limit_scratch(Entry),
    A = length(Args),
    ets:insert(Tab, {current, Seq, erlang:monotonic_time(millisecond),
                     {M, F, Args}}),
    trace_call(State, Seq, M, F, Args),
    Atoms0 = erlang:system_info(atom_count),
    T0 = erlang:monotonic_time(millisecond),
    Outcome = try apply(M, F, Args) of
                  Value -> {return, Value}
              catch
                  Class:Reason:Stack -> {raise, Class, Reason, Stack}
              end,
    Duration = erlang:monotonic_time(millisecond) - T0,
    flush(),
    State1 = note_atoms(Atoms0, M, F, Args, State),
    Label = case Duration > ?CALL_LIMIT_MS of
                true -> {fail, {too_slow, Duration}};
                false -> classify(Entry, Args, Outcome)
            end,
    case Label of
        {fail, Why} ->
            case known_gap(M, F, Args, Outcome) of
                {true, Id} ->
                    tally(M, F, {known_gap, Id},
                          bump_gap(Id, State1));
                false ->
                    Key = failure_key(M, F, A, Outcome, Why),
                    Desc = {M, F, A, Args, Outcome, Why},
                    State2 = add_signature(Outcome, Why, Desc, State1),
                    tally(M, F, failure, add_failure(Key, Desc, State2))
            end;
        {ok, L} ->
            tally(M, F, L, State1)
    end.

%% Calls during which the atom table grew: loading a module (first use of
%% some OTP module) adds its atoms, anything else is counted.
note_atoms(Atoms0, M, F, Args, #{atom_calls := AC, loaded := Loaded,
                                 atoms_unexplained := U} = State) ->
    case erlang:system_info(atom_count) - Atoms0 of
        0 ->
            State;
        Delta ->
            Loaded1 = length(erlang:loaded()),
            Kind = case Loaded1 > Loaded of
                       true -> module_load;
                       false -> unexplained
                   end,
            #{module_load_atoms := ML} = State,
            AC1 = case length(AC) < 20 of
                      true -> [{Kind, Delta, M, F, Args} | AC];
                      false -> AC
                  end,
            U1 = case Kind of
                     unexplained -> U + Delta;
                     module_load -> U
                 end,
            ML1 = case Kind of
                      module_load -> ML + Delta;
                      unexplained -> ML
                  end,
            State#{atom_calls := AC1, loaded := Loaded1,
                   atoms_unexplained := U1, module_load_atoms := ML1}
    end.

%% Failures grouped by what went wrong, whatever the function called.
add_signature(Outcome, Why, Desc, #{sigs := Sigs} = State) ->
    Sig = case Outcome of
              {raise, C, R, St} ->
                  {C, shape(R), [{Mod, Fun, Ar}
                                 || {Mod, Fun, Ar, _} <- top_frames(St, 1)]};
              {return, V} ->
                  {return, shape(V), Why}
          end,
    State#{sigs := maps:update_with(Sig, fun({N, D}) -> {N + 1, D} end,
                                    {1, Desc}, Sigs)}.

trace_call(#{trace := undefined}, _, _, _, _) ->
    ok;
trace_call(#{trace := Fd}, Seq, M, F, Args) ->
    ok = file:write(Fd, io_lib:format("~b ~p:~p ~0P~n", [Seq, M, F, Args, 60])).

tally(M, F, Label, #{tally := T} = State) ->
    Key = {M, F},
    Inner = maps:get(Key, T, #{}),
    State#{tally := T#{Key => maps:update_with(Label, fun(N) -> N + 1 end, 1,
                                               Inner)}}.

bump_gap(Id, #{gap_hits := G} = State) ->
    State#{gap_hits := maps:update_with(Id, fun(N) -> N + 1 end, 1, G)}.

add_failure(Key, Desc, #{failures := Fs, nfail := N} = State) ->
    Fs1 = case lists:keymember(Key, 1, Fs) orelse
               length(Fs) >= max_failures() of
              true -> Fs;
              false -> [{Key, Desc} | Fs]
          end,
    State#{failures := Fs1, nfail := N + 1}.

failure_key(M, F, A, {return, V}, Why) ->
    {M, F, A, return, shape(V), Why};
failure_key(M, F, A, {raise, Class, Reason, Stack}, _Why) ->
    {M, F, A, Class, shape(Reason), top_frames(Stack, 1)}.

shape(T) when is_tuple(T), tuple_size(T) > 0 ->
    case element(1, T) of
        Tag when is_atom(Tag) -> {Tag, tuple_size(T)};
        _ -> {tuple, tuple_size(T)}
    end;
shape(T) when is_atom(T) -> T;
shape(T) when is_map(T) -> map;
shape(T) when is_list(T) -> list;
shape(_) -> other.

%% Kills the test process if one call takes longer than the limit (the
%% call would otherwise only be reported when it returns, if ever).
start_watchdog(Pid, Tab) ->
    spawn(fun() ->
                  Ref = monitor(process, Pid),
                  watchdog(Pid, Ref, Tab)
          end).

watchdog(Pid, Ref, Tab) ->
    receive
        stop -> ok;
        {'DOWN', Ref, process, Pid, _} -> ok
    after 1000 ->
            Now = erlang:monotonic_time(millisecond),
            case ets:lookup(Tab, current) of
                [{current, Seq, T0, {M, F, Args}}]
                  when Now - T0 > 2 * ?CALL_LIMIT_MS ->
                    io:format(user, "~s: call #~b hangs: ~p:~p ~0P~n",
                              [?MODULE, Seq, M, F, Args, 40]),
                    exit(Pid, {hung_call, Seq, M, F});
                _ ->
                    watchdog(Pid, Ref, Tab)
            end
    end.

null_io() ->
    receive
        {io_request, From, ReplyAs, _Request} ->
            From ! {io_reply, ReplyAs, ok},
            null_io();
        stop ->
            ok
    end.

flush() ->
    receive _ -> flush() after 0 -> ok end.

%% -------------------------------------------------------------------
%% Classification.
%% -------------------------------------------------------------------

classify(#{f := combine_with_conditions}, [Path, []], {return, Path}) ->
    %% SPEC 2.9: `Conds = []' gives `Path' back, whatever it is.
    {ok, value};
classify(#{group := sproc}, _Args,
         {raise, throw, {khepri, failed_to_get_sproc, Props}, _}) ->
    documented_throw(failed_to_get_sproc, Props);
classify(#{group := sproc}, _Args,
         {raise, throw, ?khepri_exception(denied_execution_of_non_sproc_node, Props), _}) ->
    documented_throw(denied_execution_of_non_sproc_node, Props);
classify(#{group := sproc}, _Args, {raise, error, {badarity, _}, _}) ->
    %% the sproc called with arguments it does not take (SPEC 5b: the VM's
    %% own exception)
    {ok, user_fun};
classify(#{ret := Ret, group := G}, _Args, {return, V}) ->
    case check_return(Ret, V) of
        true ->
            {ok, value};
        false ->
            case V of
                {error, Reason} when Ret =/= bang_any ->
                    case returned_error(G, Ret, Reason) of
                        {true, L} -> {ok, L};
                        false -> {fail, undocumented_error}
                    end;
                _ ->
                    {fail, undocumented_return}
            end
    end;
classify(#{group := G}, _Args,
         {raise, error, ?khepri_exception(Name, Props), _}) ->
    case lists:member(Name, raised_names(G)) andalso
         has_required_keys(Name, Props) of
        true -> {ok, {raise, Name}};
        false -> {fail, undocumented_exception}
    end;
classify(#{ret := Ret, group := G} = E, _Args,
         {raise, error, Reason, Stack}) when ?IS_BANG(Ret) ->
    case returned_error(G, Ret, Reason) of
        {true, L} -> {ok, L};
        false -> classify_other(E, {raise, error, Reason, Stack})
    end;
classify(E, _Args, Outcome) ->
    classify_other(E, Outcome).

documented_throw(Name, Props) ->
    case has_required_keys(Name, Props) of
        true -> {ok, {throw, Name}};
        false -> {fail, undocumented_exception}
    end.

classify_other(#{m := M, f := F}, {raise, error, Reason, Stack})
  when Reason =:= function_clause; Reason =:= badarg ->
    case api_head(M, F, Reason, Stack) of
        true -> {ok, head_clause};
        false -> {fail, internal_exception}
    end;
classify_other(#{f := F}, {raise, Class, Reason, _Stack}) ->
    case Reason of
        {?MARK, _} -> {ok, user_fun};
        _ ->
            case is_filter(F) andalso Class =:= error andalso
                 contains(Reason, ?NOT_BOOL) of
                %% The predicate broke its contract (`-> boolean()'): the
                %% exception comes from its return value.
                true -> {ok, user_fun};
                false -> {fail, internal_exception}
            end
    end;
classify_other(_E, _Outcome) ->
    {fail, internal_exception}.

is_filter(filter) -> true;
is_filter(_) -> false.

contains(X, X) -> true;
contains(T, X) when is_tuple(T) -> contains(tuple_to_list(T), X);
contains([H | T], X) -> contains(H, X) orelse contains(T, X);
contains(_, _) -> false.

%% A function_clause (or badarg) raised by the head of the public function
%% called, or of the public function of the same name it delegates to.
api_head(M, F, function_clause, [{M2, F2, Args, _} | _]) when is_list(Args) ->
    same_api(M, F, M2, F2, length(Args));
api_head(M, F, badarg, [{M2, F2, Arity, _} | _]) ->
    A = case Arity of
            L when is_list(L) -> length(L);
            N -> N
        end,
    same_api(M, F, M2, F2, A);
api_head(_, _, _, _) ->
    false.

same_api(M, F, M2, F2, Arity) ->
    lists:member(M2, ?PUBLIC_MODULES) andalso
        (M2 =:= M orelse (M =:= khepri_cluster andalso M2 =:= khepri)) andalso
        (F2 =:= F orelse F2 =:= unbang(F)) andalso
        erlang:function_exported(M2, F2, Arity).

returned_error(_G, Ret, Reason) when Ret =:= start; Ret =:= stop ->
    %% SPEC 2.1: `start' and `stop' return `{error, _}'.
    {true, {error, shape(Reason)}};
returned_error(G, _Ret, ?khepri_error(Name, Props)) ->
    case lists:member(Name, returned_names(G)) andalso
         has_required_keys(Name, Props) of
        true -> {true, {error, Name}};
        false -> false
    end;
returned_error(G, _Ret, Reason)
  when (Reason =:= noproc orelse Reason =:= timeout) andalso
       (G =:= read orelse G =:= write orelse G =:= service) ->
    {true, {error, Reason}};
returned_error(_G, _Ret, _Reason) ->
    false.

known_gap(M, F, Args, Outcome) ->
    Found = [Id || {Id, Match, _Expected} <- known_gaps(),
                   (catch Match(M, F, Args, Outcome)) =:= true],
    case Found of
        [Id | _] -> {true, Id};
        [] -> false
    end.

%% Names of the SPEC 1.2 catalogue each group of functions may return
%% (`R') or raise (`X').
returned_names(read) -> [node_not_found];
returned_names(write) -> [node_not_found, mismatching_node,
                          keep_while_conditions_not_met];
returned_names(service) -> [unknown_ra_system, not_a_khepri_store];
returned_names(_) -> [].

raised_names(read) ->
    [possibly_matching_many_nodes_denied, condition_targets_parent_node,
     invalid_path, invalid_option, unsupported_condition];
raised_names(write) ->
    [invalid_payload | raised_names(read)];
raised_names(path) -> [invalid_path];
raised_names(condition) ->
    [invalid_path, invalid_option, unsupported_condition];
raised_names(evf) -> [invalid_path, invalid_option, unsupported_condition];
raised_names(payload) -> [invalid_payload];
raised_names(projection) ->
    [unexpected_projection_option,
     multi_table_projection_incompatible_with_copy_func,
     multi_table_projection_incompatible_with_simple_func];
raised_names(service) -> [invalid_option];
raised_names(cluster) -> [];
raised_names(sproc) -> raised_names(read).

%% Props keys the SPEC 1.2 catalogue lists for each name.
has_required_keys(Name, Props) when is_map(Props) ->
    lists:all(fun(K) -> maps:is_key(K, Props) end, required_keys(Name));
has_required_keys(_, _) ->
    false.

required_keys(node_not_found) -> [node_name, node_path, node_is_target];
required_keys(mismatching_node) ->
    [node_name, node_path, node_is_target, node_props, condition];
required_keys(keep_while_conditions_not_met) ->
    [node_name, node_path, keep_while_reason];
required_keys(unknown_ra_system) -> [ra_system];
required_keys(not_a_khepri_store) -> [store_id];
required_keys(possibly_matching_many_nodes_denied) -> [path];
required_keys(condition_targets_parent_node) -> [path, condition];
required_keys(invalid_path) -> [path];
required_keys(invalid_payload) -> [path, payload];
required_keys(invalid_option) -> [option, value];
required_keys(unsupported_condition) -> [condition, reason];
required_keys(unexpected_projection_option) -> [name, value];
required_keys(multi_table_projection_incompatible_with_copy_func) ->
    [name, projection_fun, options];
required_keys(multi_table_projection_incompatible_with_simple_func) ->
    [name, projection_fun, options];
required_keys(failed_to_get_sproc) -> [path, args, error];
required_keys(denied_execution_of_non_sproc_node) -> [path, args, node_props];
required_keys(_) -> [].

%% Documented success shapes (SPEC sections 1.2, 1.4 and 2).
check_return(any, _) -> true;
check_return(bang_any, _) -> true;
check_return(ok, V) -> V =:= ok;
check_return(bang_ok, V) -> V =:= ok;
check_return(bool, V) -> is_boolean(V);
check_return(bang_bool, V) -> is_boolean(V);
check_return(value, V) -> is_tuple(V) andalso tuple_size(V) =:= 2 andalso
                              element(1, V) =:= ok;
check_return(map, {ok, M}) -> is_map(M);
check_return(bang_map, M) -> is_map(M);
check_return(count, {ok, N}) -> is_integer(N) andalso N >= 0;
check_return(bang_count, N) -> is_integer(N) andalso N >= 0;
check_return(adv_map, {ok, M}) -> is_node_props_map(M);
check_return(adv_write, ok) -> true;   % async
check_return(adv_write, {ok, M}) -> is_node_props_map(M);
check_return(list, V) -> is_list(V);
check_return(string, V) -> is_list(V) andalso lists:all(fun is_integer/1, V);
check_return(binary, V) -> is_binary(V);
check_return(target, {true, P}) -> is_list(P);
check_return(target, false) -> true;
check_return(component_target, {true, _}) -> true;
check_return(component_target, false) -> true;
check_return(siblings, {true, [_ | _]}) -> true;
check_return(siblings, false) -> true;
check_return(valid, true) -> true;
check_return(valid, {false, _}) -> true;
check_return(evf, V) -> is_tuple(V) andalso element(1, V) =:= evf_tree;
check_return(integer, V) -> is_integer(V);
check_return(payload, '$__NO_PAYLOAD__') -> true;
check_return(payload, {p_data, _}) -> true;
check_return(payload, {p_sproc, F, _}) -> is_function(F);
check_return(wrapper, '$__NO_PAYLOAD__') -> true;
check_return(wrapper, {p_data, _}) -> true;
check_return(wrapper, {p_sproc, _, _}) -> true;
check_return(p_data, {p_data, _}) -> true;
check_return(p_sproc, {p_sproc, F, false}) -> is_function(F);
check_return(no_payload, V) -> V =:= '$__NO_PAYLOAD__';
check_return(projection, V) -> is_tuple(V) andalso tuple_size(V) =:= 4 andalso
                                   element(1, V) =:= khepri_projection;
check_return(atom, V) -> is_atom(V);
check_return(member, {S, N}) -> is_atom(S) andalso is_atom(N);
check_return(store_ids, V) -> is_list(V) andalso lists:all(fun is_atom/1, V);
check_return(start, {ok, S}) -> is_atom(S);
check_return(stop, ok) -> true;
check_return(info, ok) -> true;
check_return(keep_while, V) -> is_map(V);
check_return(met, true) -> true;
check_return(met, {false, _}) -> true;
check_return(_, _) -> false.

is_node_props_map(M) when is_map(M) ->
    lists:all(fun({K, V}) -> is_list(K) andalso is_map(V) end,
              maps:to_list(M));
is_node_props_map(_) ->
    false.

unbang('get!') -> get;
unbang('get_or!') -> get_or;
unbang('get_many!') -> get_many;
unbang('get_many_or!') -> get_many_or;
unbang('exists!') -> exists;
unbang('has_data!') -> has_data;
unbang('is_sproc!') -> is_sproc;
unbang('count!') -> count;
unbang('put!') -> put;
unbang('put_many!') -> put_many;
unbang('create!') -> create;
unbang('update!') -> update;
unbang('compare_and_swap!') -> compare_and_swap;
unbang('delete!') -> delete;
unbang('delete_many!') -> delete_many;
unbang('clear_payload!') -> clear_payload;
unbang('clear_many_payloads!') -> clear_many_payloads;
unbang(F) -> F.

%% -------------------------------------------------------------------
%% The functions under test.
%% -------------------------------------------------------------------

%% Each entry: module, function, arity, argument generator, documented
%% success shape, group (which catalogue names it may produce), weight.
entries() ->
    Reads = [{get, [path], value, 'get!', bang_any},
             {get_or, [path, any], value, 'get_or!', bang_any},
             {get_many, [pattern], map, 'get_many!', bang_map},
             {get_many_or, [pattern, any], map, 'get_many_or!', bang_map},
             {exists, [path], bool, 'exists!', bang_bool},
             {has_data, [path], bool, 'has_data!', bang_bool},
             {is_sproc, [path], bool, 'is_sproc!', bang_bool},
             {count, [pattern], count, 'count!', bang_count},
             {fold, [pattern, fun3, any], value, none, none},
             {foreach, [pattern, fun2], ok, none, none},
             {map, [pattern, fun2], map, none, none},
             {filter, [pattern, pred], map, none, none}],
    Writes = [{put, [path, data], 'put!'},
              {put_many, [pattern, data], 'put_many!'},
              {create, [path, data], 'create!'},
              {update, [path, data], 'update!'},
              {compare_and_swap, [path, dpat, data], 'compare_and_swap!'},
              {delete, [path], 'delete!'},
              {delete_many, [pattern], 'delete_many!'},
              {clear_payload, [path], 'clear_payload!'},
              {clear_many_payloads, [pattern], 'clear_many_payloads!'}],
    AdvReads = [{get, [path]}, {get_many, [pattern]}],
    KhepriReads =
        lists:append(
          [api_forms(khepri, F, Roles, Ret, read, 6) ++
               case Bang of
                   none -> [];
                   _ -> api_forms(khepri, Bang, Roles, BangRet, read, 2)
               end
           || {F, Roles, Ret, Bang, BangRet} <- Reads]),
    KhepriWrites =
        lists:append(
          [api_forms(khepri, F, Roles, ok, write, 6) ++
               api_forms(khepri, Bang, Roles, bang_ok, write, 2)
           || {F, Roles, Bang} <- Writes]),
    Adv = lists:append(
            [api_forms(khepri_adv, F, Roles, adv_map, read, 4)
             || {F, Roles} <- AdvReads] ++
                [api_forms(khepri_adv, F, Roles, adv_write, write, 4)
                 || {F, Roles, _} <- Writes]),
    IsEmpty = [entry(khepri, is_empty, 0, fun() -> [] end, bool, read, 1),
               entry(khepri, is_empty, 1,
                     fun() -> [pick([store(), options()])] end, bool, read, 3),
               entry(khepri, is_empty, 2, fun() -> [store(), options()] end,
                     bool, read, 3)],
    KhepriReads ++ KhepriWrites ++ Adv ++ IsEmpty ++ service_entries() ++
        path_entries() ++ condition_entries() ++ evf_entries() ++
        payload_entries() ++ projection_entries() ++ cluster_entries() ++
        sproc_entries().

entry(M, F, A, Gen, Ret, Group, W) ->
    #{m => M, f => F, a => A, gen => Gen, ret => Ret, group => Group, w => W,
      nbase => A}.

%% The three arity forms of a data function with base arguments `Roles':
%% F(Base...), F(S, Base...) or F(Base..., Options), F(S, Base..., Options).
api_forms(M, F, Roles, Ret, Group, W) ->
    N = length(Roles),
    [(entry(M, F, N + Extra,
            fun() -> mutate(api_args(Roles, Extra)) end, Ret, Group, W))
     #{nbase => N}
     || Extra <- [0, 1, 2]].

api_args(Roles, Extra) ->
    Base = [role(R) || R <- Roles],
    case Extra of
        0 -> Base;
        1 -> case ?R(2) of
                 1 -> [store() | Base];
                 2 -> Base ++ [options()]
             end;
        2 -> [store() | Base] ++ [options()]
    end.

%% Sometimes one argument is replaced by anything.
mutate(Args) ->
    case ?R(10) =:= 1 andalso Args =/= [] of
        true ->
            I = ?R(length(Args)),
            {Before, [_ | After]} = lists:split(I - 1, Args),
            Before ++ [term(2) | After];
        false ->
            Args
    end.

role(path) -> path();
role(pattern) -> pattern();
role(data) -> data();
role(dpat) -> match_pattern();
role(any) -> term(2);
role(fun3) -> fun3();
role(fun2) -> fun2();
role(pred) -> pred().

%% Writes must stay in the scratch subtree: the path argument (found the
%% way the API dispatches, SPEC 1.1) is moved under `scratch' when it parses
%% to a path elsewhere.
prepare_args(#{group := write, nbase := N}, Args) ->
    I = case length(Args) - N of
            0 -> 1;
            2 -> 2;
            _ -> case is_atom(hd(Args)) of
                     true -> 2;
                     false -> 1
                 end
        end,
    {Before, [Path | After]} = lists:split(I - 1, Args),
    Before ++ [confine(Path) | After];
prepare_args(_Entry, Args) ->
    Args.

confine(Path) ->
    try khepri_path:realpath(khepri_path:from_string(Path)) of
        [scratch | _] -> Path;
        Native -> [scratch | Native]
    catch
        _:_ -> Path
    end.

%% `run_sproc/2,3,4' (SPEC 2.2): runs the known sproc (arity 0) often.
sproc_entries() ->
    [entry(khepri, run_sproc, 2, fun() -> mutate([sproc_path(), sproc_args()]) end,
           any, sproc, 3),
     entry(khepri, run_sproc, 3,
           fun() ->
                   mutate(case ?R(2) of
                              1 -> [store(), sproc_path(), sproc_args()];
                              2 -> [sproc_path(), sproc_args(), options()]
                          end)
           end, any, sproc, 3),
     entry(khepri, run_sproc, 4,
           fun() -> mutate([store(), sproc_path(), sproc_args(), options()]) end,
           any, sproc, 3)].

sproc_path() -> pick([[known, sproc], "/:known/sproc", path()]).

sproc_args() -> pick([[], [], [1], term(1)]).

service_entries() ->
    [entry(khepri, start, 0, fun() -> [] end, start, service, 1),
     entry(khepri, start, 1, fun() -> [data_dir()] end, start, service, 1),
     entry(khepri, start, 2, fun() -> [data_dir(), start_store_id()] end,
           start, service, 1),
     entry(khepri, start, 3,
           fun() -> [data_dir(), start_store_id(), start_timeout()] end,
           start, service, 1),
     entry(khepri, stop, 1, fun() -> [stop_store_id()] end, stop, service, 2),
     entry(khepri, get_store_ids, 0, fun() -> [] end, store_ids, service, 1),
     entry(khepri, info, 0, fun() -> [] end, info, service, 1),
     entry(khepri, info, 1, fun() -> [store()] end, info, service, 1),
     entry(khepri, info, 2, fun() -> [store(), options()] end, info,
           service, 1)].

cluster_entries() ->
    C = khepri_cluster,
    [entry(C, start, 0, fun() -> [] end, start, service, 1),
     entry(C, start, 1, fun() -> [data_dir()] end, start, service, 1),
     entry(C, start, 2, fun() -> [data_dir(), start_store_id()] end,
           start, service, 1),
     entry(C, start, 3,
           fun() -> [data_dir(), start_store_id(), start_timeout()] end,
           start, service, 1),
     entry(C, stop, 1, fun() -> [stop_store_id()] end, stop, service, 2),
     entry(C, get_default_store_id, 0, fun() -> [] end, atom, cluster, 1),
     entry(C, get_store_ids, 0, fun() -> [] end, store_ids, cluster, 1),
     entry(C, is_store_running, 1, fun() -> [store()] end, bool, cluster, 2),
     entry(C, node_to_member, 2,
           fun() -> [store(), pick([node(), term(1)])] end, member, cluster,
           2),
     entry(C, this_member, 1, fun() -> [store()] end, member, cluster, 2)].

path_entries() ->
    P = khepri_path,
    [entry(P, from_string, 1, fun() -> [path()] end, list, path, 8),
     entry(P, from_binary, 1, fun() -> [path()] end, list, path, 4),
     entry(P, to_string, 1, fun() -> [path()] end, string, path, 6),
     entry(P, to_binary, 1, fun() -> [path()] end, binary, path, 4),
     entry(P, sigil_p, 2, fun() -> [path(), term(1)] end, list, path, 2),
     entry(P, sigil_P, 2, fun() -> [path(), term(1)] end, list, path, 2),
     entry(P, combine_with_conditions, 2, fun() -> [path(), conditions()] end,
           list, path, 4),
     entry(P, targets_specific_node, 1, fun() -> [path()] end, target, path, 4),
     entry(P, component_targets_specific_node, 1, fun() -> [component()] end,
           component_target, path, 3),
     entry(P, component_targets_specific_siblings, 1,
           fun() -> [component()] end, siblings, path, 3),
     entry(P, is_valid, 1, fun() -> [path()] end, valid, path, 4),
     entry(P, is_valid_component, 1, fun() -> [component()] end, valid,
           path, 3),
     entry(P, ensure_is_valid, 1, fun() -> [path()] end, ok, path, 4),
     entry(P, abspath, 2, fun() -> [path(), path()] end, list, path, 4),
     entry(P, realpath, 1, fun() -> [path()] end, list, path, 4),
     entry(P, pattern_includes_root_node, 1, fun() -> [path()] end, bool,
           path, 3),
     entry(P, compile, 1, fun() -> [path()] end, list, path, 2)].

condition_entries() ->
    C = khepri_condition,
    [entry(C, ensure_native_keep_while, 1,
           fun() -> [pick([keep_while(), keep_while(), term(2)])] end,
           keep_while, condition, 6),
     entry(C, compile, 1, fun() -> [component()] end, any, condition, 3),
     entry(C, applies_to_grandchildren, 1, fun() -> [component()] end, bool,
           condition, 3),
     entry(C, is_met, 3,
           fun() -> [component(), pick([path(), name(), term(1)]),
                     node_props()] end,
           met, condition, 8),
     entry(C, is_valid, 1, fun() -> [component()] end, valid, condition, 3),
     entry(C, validate_data_matches, 1,
           fun() -> [pick([component(), path()])] end, ok, condition, 4)].

evf_entries() ->
    E = khepri_evf,
    [entry(E, tree, 1, fun() -> [path()] end, evf, evf, 3),
     entry(E, tree, 2, fun() -> [path(), evf_props()] end, evf, evf, 3),
     entry(E, wrap, 1, fun() -> [pick([path(), evf(), term(1)])] end, evf,
           evf, 3),
     entry(E, get_priority, 1, fun() -> [pick([evf(), term(1)])] end, integer,
           evf, 2),
     entry(E, set_priority, 2,
           fun() -> [pick([evf(), term(1)]), pick([?R(100) - 50, term(1)])] end,
           evf, evf, 2)].

payload_entries() ->
    P = khepri_payload,
    [entry(P, none, 0, fun() -> [] end, no_payload, payload, 1),
     entry(P, data, 1, fun() -> [term(2)] end, p_data, payload, 1),
     entry(P, sproc, 1, fun() -> [pick([fun_term(), term(1)])] end, p_sproc,
           payload, 2),
     %% SPEC 2.11: a wrapper is returned as is (prepare/1 validates it).
     entry(P, wrap, 1, fun() -> [data()] end, wrapper, payload, 2),
     entry(P, prepare, 1, fun() -> [data()] end, payload, payload, 3)].

projection_entries() ->
    P = khepri_projection,
    [entry(P, new, 2, fun() -> [proj_name(), proj_fun()] end, projection,
           projection, 3),
     entry(P, new, 3, fun() -> [proj_name(), proj_fun(), proj_options()] end,
           projection, projection, 5),
     entry(P, name, 1, fun() -> [pick([projection(), term(1)])] end, atom,
           projection, 1)].

%% -------------------------------------------------------------------
%% Generators: atoms (a fixed set: the atom table must not grow).
%% -------------------------------------------------------------------

pick(List) -> lists:nth(?R(length(List)), List).

pick_tuple(T) -> element(?R(tuple_size(T)), T).

bool() -> ?R(2) =:= 1.

atom() -> pick_tuple(atom_pool()).

atom_pool() ->
    {foo, bar, baz, a, b, c, x, y, scratch, known, kw, sproc, '', 'é', '中文',
     'x y', 'foo*', ':', undefined, true, false, ok, error, infinity, '_',
     '$1', '$2', '$_', '$$', '$0', '$9999999', '$', timeout, leader, local,
     normal, low, consistency, low_latency, member, applied, eq, ne, lt, le,
     gt, ge, const, self, node, get_tcw, is_integer, is_atom, '>', '==',
     '+', 'bsl', 'andalso', element, hd, map_get, payload, payload_version,
     child_list_version, child_list_length, child_names, has_payload,
     raw_payload, delete_reason, has_data, is_sproc, data, create, update,
     delete, set, ordered_set, bag, copy, public, private, protected,
     khepri, p_data, p_sproc, '$__NO_PAYLOAD__', rw, ro, auto, any,
     if_name_matches, if_path_matches, if_has_payload, if_has_data,
     if_has_sproc, if_data_matches, if_node_exists, if_payload_version,
     if_child_list_version, if_child_list_length, if_not, if_all, if_any,
     async, reply_from, protect_against_dups, favor, condition,
     expect_specific_node, props_to_return, include_root_props,
     return_indirect_deletes, keep_while, on_actions, priority, type,
     keypos, tables, unknown_store, bi_extra_1, bi_extra_2, init, user,
     khepri_sup, nonode@nohost}.

%% Store ids: mostly the store under test, else unknown atoms and
%% non-atoms.
store() ->
    case ?R(10) of
        N when N =< 6 -> ?STORE;
        N when N =< 8 -> pick([unknown_store, bi_extra_1, foo, init, user,
                               khepri_sup, '', undefined]);
        _ -> term(1)
    end.

%% -------------------------------------------------------------------
%% Generators: terms of every type.
%% -------------------------------------------------------------------

term(D) when D =< 0 ->
    leaf();
term(D) ->
    case ?R(14) of
        N when N =< 6 -> leaf();
        7 -> [term(D - 1) || _ <- lists:seq(1, ?R(4) - 1)];
        8 -> improper(D - 1);
        9 -> list_to_tuple([term(D - 1) || _ <- lists:seq(1, ?R(4) - 1)]);
        10 -> maps:from_list([{term(D - 1), term(D - 1)}
                              || _ <- lists:seq(1, ?R(3) - 1)]);
        11 -> condition(D - 1);
        12 -> options();
        13 -> string_path();
        14 -> binary_path()
    end.

leaf() ->
    case ?R(16) of
        N when N =< 2 -> atom();
        3 -> ?R(100) - 1;
        4 -> -?R(1000);
        5 -> bignum();
        6 -> float_term();
        7 -> rand:bytes(?R(8) - 1);
        8 -> unicode:characters_to_binary(random_chars(valid));
        9 -> random_chars(any);
        10 -> fun_term();
        11 -> pick([self(), erlang:get(bi_dead_pid)]);
        12 -> make_ref();
        13 -> pick([$/, $., $^, $a, 0, -1]);
        14 -> name();
        15 -> pick([[], <<>>, {}, #{}, [[]], <<1:3>>]);
        16 -> erlang:get(bi_port)
    end.

improper(D) ->
    pick([[term(D) | term(D)], [foo | bar], [a, b | <<"c">>], [$a, $b | c],
          [known | a]]).

bignum() ->
    pick([1 bsl 64, -(1 bsl 64), 1 bsl ?R(300), -(1 bsl 100) + 1,
          16#FFFFFFFF + 1, 1 bsl 40, 1 bsl 27 - 1, -(1 bsl 27)]).

float_term() ->
    pick([0.0, -0.0, 1.5, -2.5e-300, 1.0e308, -1.0e308,
          rand:uniform() * 1000, 4.9e-324]).

%% Lists of code points; `any' also has out-of-range integers.
random_chars(Kind) ->
    [random_char(Kind) || _ <- lists:seq(1, ?R(8) - 1)].

random_char(Kind) ->
    case ?R(10) of
        N when N =< 4 -> pick("abcxyz019 -_~");
        5 -> pick("/:*%^.");
        6 -> pick([233, 16#4E2D, 16#1F600, 255, 128]);
        7 -> ?R(16#10FFFF);
        8 -> pick("%2A%3A%2F");
        9 when Kind =:= any -> pick([16#D800, 16#110000, -1, 1 bsl 70]);
        _ -> $a + ?R(26) - 1
    end.

name() ->
    pick([foo, bar, baz, a, b, c, scratch, known, '', 'é', '中文', 'x y',
          <<"foo">>, <<"x">>, <<>>, <<"é"/utf8>>, <<255, 0>>, <<"a/b">>,
          <<"*">>, <<":foo">>, <<".">>, <<"..">>, <<"bin">>]).

fun_term() ->
    pick([fun() -> ok end,
          fun(X) -> X end,
          fun(_, _) -> true end,
          fun(_, _, A) -> A end,
          fun(_, _, _, _) -> ok end,
          fun(_, _) -> erlang:error({?MARK, fun2}) end,
          fun erlang:self/0,
          fun lists:reverse/1,
          fun ?MODULE:known_sproc/0]).

%% -------------------------------------------------------------------
%% Generators: paths and patterns.
%% -------------------------------------------------------------------

path() ->
    case ?R(32) of
        N when N =< 4 -> pick(known_paths());
        N when N =< 6 -> pick(known_paths()) ++ [name()];
        N when N =< 8 -> [scratch | native_path()];
        9 -> native_path();
        N when N =< 12 -> native_pattern(2);
        N when N =< 14 -> [scratch | native_pattern(2)];
        N when N =< 17 -> near_valid_path();
        N when N =< 20 -> string_path();
        N when N =< 22 -> binary_path();
        N when N =< 24 -> term(2);
        N when N =< 26 -> special_path();
        27 -> improper_path();
        N when N =< 29 -> single_target_pattern();
        30 -> parent_in_condition();
        31 -> deep_path();
        32 -> "/:known/" ++ random_chars(valid)
    end.

%% Patterns for the many-node functions: more conditions.
pattern() ->
    case ?R(4) of
        1 -> [known | native_pattern(2)];
        2 -> [scratch | native_pattern(2)];
        _ -> path()
    end.

native_path() ->
    [name() || _ <- lists:seq(1, ?R(4) - 1)].

native_pattern(D) ->
    [pattern_component(D) || _ <- lists:seq(1, ?R(4) - 1)].

pattern_component(D) ->
    case ?R(20) of
        N when N =< 11 -> name();
        N when N =< 18 -> condition(D);
        19 -> pick([$/, $., $^]);
        20 -> bad_component()
    end.

%% Anything that may be found where a path component is expected.
component() ->
    case ?R(4) of
        1 -> name();
        2 -> condition(2);
        3 -> bad_component();
        4 -> term(2)
    end.

bad_component() ->
    pick([term(1), $a, 0, -1, 1.5, "str", [foo], {foo}, #{}, self(),
          bad_condition(1), $/, 1 bsl 70, <<1:1>>]).

near_valid_path() ->
    Path = pick([[known, a], [known, c, d], [scratch, foo, bar],
                 [known, b, <<"x">>]]),
    I = ?R(length(Path)),
    {Before, [_ | After]} = lists:split(I - 1, Path),
    Before ++ [bad_component() | After].

special_path() ->
    pick([[], [$/], [$.], [$^], [$^, $^, foo], "/", "", <<>>, "..", "^", "**",
          "*", "/*/foo", [?KHEPRI_WILDCARD_STAR_STAR],
          [?KHEPRI_WILDCARD_STAR], "/:known/**", "/:known/*",
          [known, ?KHEPRI_WILDCARD_STAR_STAR, a], "^/foo", ".", "./..",
          "/:known/../:known/:a", [$/, known, $., a], [known, $^, $^, $^],
          <<"/:known/a*">>, "/:known/%2A", "/%", "/%G1/%", "//", "/a//b",
          "/:scratch/:foo*", [known, #if_path_matches{regex = "a"}]]).

improper_path() ->
    pick([[foo | bar], [known, a | <<"x">>], [$/ | foo], [$a, $b | foo],
          [known | #if_all{}], [scratch, foo | "bar"]]).

%% Patterns targeting one node through a condition (SPEC 4.2).
single_target_pattern() ->
    Name = pick([a, b, c, kw, sproc, <<"bin">>, foo]),
    Base = pick([[known], [scratch]]),
    Base ++ [pick([#if_all{conditions = [Name, condition(1)]},
                   #if_all{conditions = [condition(1), Name]},
                   #if_any{conditions = [Name]},
                   #if_any{conditions = [Name, Name]},
                   #if_all{conditions = [Name,
                                         #if_node_exists{exists = false}]},
                   #if_all{conditions = [Name, #if_data_matches{
                                                  pattern = match_pattern(),
                                                  conditions = guards()}]}])].

parent_in_condition() ->
    pick([[known, #if_all{conditions = [$^]}],
          [known, #if_not{condition = $^}],
          [known, #if_any{conditions = [a, $^]}],
          [#if_all{conditions = [known, $^]}],
          [known, #if_all{conditions = [a, #if_not{condition = $^}]}]]).

%% Long paths and deeply nested conditions and match specs.
deep_path() ->
    Depth = case ?R(50) of
                N when N =< 35 -> 30;
                N when N =< 45 -> 1000;
                N when N =< 49 -> 10000;
                50 -> 100000
            end,
    Nesting = min(Depth, ?MAX_CONDITION_NESTING),
    case ?R(5) of
        1 -> [known | lists:duplicate(min(Depth, ?MAX_PATH_LENGTH), a)];
        2 -> [known, nest(Nesting, fun(C) -> #if_not{condition = C} end, a)];
        3 -> [known, nest(Nesting, fun(C) -> #if_all{conditions = [C]} end,
                          a)];
        4 -> [known, #if_data_matches{
                        pattern = nest(Depth, fun(P) -> {P} end, '$1')}];
        5 -> [known, #if_data_matches{
                        pattern = '$1',
                        conditions = [nest(Depth, fun(G) -> {'not', G} end,
                                           {is_integer, '$1'})]}]
    end.

nest(0, _Wrap, Inner) -> Inner;
nest(N, Wrap, Inner) -> nest(N - 1, Wrap, Wrap(Inner)).

%% Unix-like paths; `:name' segments only use fixed names (see sanitize/1).
string_path() ->
    Segments = [segment() || _ <- lists:seq(1, ?R(4) - 1)],
    Lead = pick(["/", "/", "", "^/", "./", "../"]),
    Trail = pick(["", "", "/"]),
    lists:append([Lead, lists:append(lists:join("/", Segments)), Trail]).

segment() ->
    case ?R(8) of
        1 -> pick(atom_segments());
        2 -> pick([".", "..", "*", "**", "^", "", "known", "scratch", "a*b"]);
        _ ->
            case random_chars(any) of
                [$: | Rest] -> [$a | Rest];
                Chars -> [C || C <- Chars, C =/= $/]
            end
    end.

binary_path() ->
    case ?R(3) of
        1 ->
            case unicode:characters_to_binary(string_path()) of
                B when is_binary(B) -> B;
                _ -> <<"/:foo/", 255>>
            end;
        2 ->
            iolist_to_binary(
              lists:join(<<"/">>, [rand:bytes(?R(4) - 1)
                                   || _ <- lists:seq(1, ?R(4))]));
        3 ->
            iolist_to_binary([pick([<<"/">>, <<>>]),
                              lists:join(<<"/">>,
                                         [pick(atom_segments_bin() ++
                                                   [<<"known">>, <<"*">>,
                                                    <<"..">>, <<"%FF">>])
                                          || _ <- lists:seq(1, ?R(3))])])
    end.

%% The only `:'-segments generated (and kept by sanitize/1): each makes
%% an atom that already exists, or is refused (invalid UTF-8, too long).
atom_segments() ->
    [":foo", ":bar", ":baz", ":a", ":scratch", ":known", ":", ":x%20y",
     ":%C3%A9", [$:, 233], ":%E4%B8%AD%E6%96%87", [$:, 16#4E2D, 16#6587],
     ":foo*", ":%3A", ":%FF",
     [$: | lists:duplicate(256, $a)], [$:, 16#D800]].

atom_segments_bin() ->
    [<<":foo">>, <<":bar">>, <<":scratch">>, <<":known">>, <<":">>,
     <<":x%20y">>, <<":%C3%A9">>, <<":é"/utf8>>, <<":中文"/utf8>>,
     <<":foo*">>, <<":%3A">>,
     <<":%FF">>, <<":", 255>>, <<":", 16#C3>>,
     iolist_to_binary([$: | lists:duplicate(256, $a)])].

%% Replaces every `:'-segment of every string and binary in a term that
%% is not one of atom_segments(): a path parsed from the generated
%% arguments never creates an atom.
sanitize(L) when is_list(L) ->
    case is_int_list(L) of
        true -> sanitize_string(L);
        false -> sanitize_list(L)
    end;
sanitize(B) when is_binary(B) ->
    sanitize_binary(B);
sanitize(T) when is_tuple(T) ->
    list_to_tuple([sanitize(X) || X <- tuple_to_list(T)]);
sanitize(M) when is_map(M) ->
    maps:from_list([{sanitize(K), sanitize(V)} || {K, V} <- maps:to_list(M)]);
sanitize(X) ->
    X.

sanitize_list([H | T]) -> [sanitize(H) | sanitize_list(T)];
sanitize_list([]) -> [];
sanitize_list(Tail) -> sanitize(Tail).

is_int_list([H | T]) when is_integer(H) -> is_int_list(T);
is_int_list([]) -> true;
is_int_list(_) -> false.

sanitize_string(L) ->
    case lists:member($:, L) of
        false ->
            L;
        true ->
            Allowed = atom_segments(),
            Segments = split_string(L, [], []),
            lists:append(
              lists:join("/", [case Seg of
                                   [$: | _] ->
                                       case lists:member(Seg, Allowed) of
                                           true -> Seg;
                                           false -> ":foo"
                                       end;
                                   _ ->
                                       Seg
                               end || Seg <- Segments]))
    end.

split_string([$/ | Rest], Seg, Acc) ->
    split_string(Rest, [], [lists:reverse(Seg) | Acc]);
split_string([C | Rest], Seg, Acc) ->
    split_string(Rest, [C | Seg], Acc);
split_string([], Seg, Acc) ->
    lists:reverse([lists:reverse(Seg) | Acc]).

sanitize_binary(B) when bit_size(B) rem 8 =/= 0 ->
    B;
sanitize_binary(B) ->
    case binary:match(B, <<":">>) of
        nomatch ->
            B;
        _ ->
            Allowed = atom_segments_bin(),
            Segments = binary:split(B, <<"/">>, [global]),
            iolist_to_binary(
              lists:join(<<"/">>, [case Seg of
                                       <<$:, _/binary>> ->
                                           case lists:member(Seg, Allowed) of
                                               true -> Seg;
                                               false -> <<":foo">>
                                           end;
                                       _ ->
                                           Seg
                                   end || Seg <- Segments]))
    end.

%% -------------------------------------------------------------------
%% Generators: conditions.
%% -------------------------------------------------------------------

condition(D) ->
    case ?R(17) of
        1 -> #if_name_matches{regex = regex()};
        2 -> #if_path_matches{regex = regex()};
        3 -> #if_has_payload{has_payload = bool()};
        4 -> #if_has_data{has_data = bool()};
        5 -> #if_has_sproc{has_sproc = bool()};
        N when N =< 7 -> data_matches();
        8 -> #if_node_exists{exists = bool()};
        9 -> #if_payload_version{version = version()};
        10 -> #if_child_list_version{version = version()};
        11 -> #if_child_list_length{count = version()};
        12 when D > 0 -> #if_not{condition = cond_or_name(D - 1)};
        13 when D > 0 -> #if_all{conditions = [cond_or_name(D - 1)
                                              || _ <- lists:seq(1, ?R(3) - 1)]};
        14 when D > 0 -> #if_any{conditions = [cond_or_name(D - 1)
                                              || _ <- lists:seq(1, ?R(3) - 1)]};
        15 -> bad_condition(D);
        16 -> ?KHEPRI_WILDCARD_STAR;
        _ -> ?KHEPRI_WILDCARD_STAR_STAR
    end.

cond_or_name(D) ->
    case ?R(3) of
        1 -> name();
        _ -> condition(D)
    end.

conditions() ->
    case ?R(5) of
        1 -> term(1);
        2 -> [];
        _ -> [condition(1) || _ <- lists:seq(1, ?R(3))]
    end.

regex() ->
    pick([any, any, "^a", "a.*", "(", "[", <<"^foo$">>, "é", <<255>>,
          [256, 1000], "\\", "(?<n>a)", "a{1000000}", "(a*)*b", "^$",
          <<"(?i)K">>, random_chars(valid), random_chars(any), term(1)]).

version() ->
    case ?R(6) of
        1 -> ?R(5) - 1;
        2 -> {pick([eq, ne, lt, le, gt, ge]), ?R(5) - 1};
        3 -> {pick([eq, ne, lt, le, gt, ge]), term(1)};
        4 -> pick([-1, 1 bsl 70, 1.0, {bad_op, 1}, {eq}, {eq, 1, 2}, foo,
                   "1"]);
        _ -> term(1)
    end.

data_matches() ->
    #if_data_matches{pattern = match_pattern(),
                     conditions = guards(),
                     compiled = pick([undefined, undefined, undefined,
                                      make_ref(), foo, <<>>])}.

%% ETS match patterns, good and bad.
match_pattern() ->
    pick(['_', '_', '$1', {'$1', '_'}, {'$1', '$2'}, ['$1' | '_'],
          #{map => '$1'}, #{'$1' => a}, #{'_' => 1}, <<"alpha">>, 1 bsl 80,
          {tuple, '$1', '$2'}, self(), '$_', '$$', '$0', '$9999999',
          [1, 2, 3], #{list => ['$1' | '_']}, 1.5, {'$1', '$1', '_'},
          term(2)]).

guards() ->
    case ?R(8) of
        1 -> [];
        2 -> [guard()];
        3 -> [guard(), guard()];
        4 -> [guard() | guard()];
        5 -> guard();
        _ -> [guard()]
    end.

guard() ->
    pick([{'>', '$1', 0}, {is_integer, '$1'}, {'==', {element, 1, '$1'}, tuple},
          {self}, {'==', '$1', {self}}, {node}, {'=:=', {node}, x},
          {get_tcw}, {const, self()}, {'==', '$1', {const, {self}}},
          {'+', '$1', 1}, {'>', {'div', '$1', 0}, 1},
          {'>', {'rem', '$1', 0}, 1},
          {'==', {'bsl', '$1', 64}, 0}, {'>', {'bsl', 1, 100000}, '$1'},
          {'>', {'bsl', 1, 1 bsl 40}, 0}, {'>', {'bsl', '$1', 1 bsl 62}, 0},
          {'==', {hd, '$1'}, 1}, {'==', {map_get, map, '$1'}, 1},
          {is_map_key, list, '$1'}, {'==', {binary_part, '$1', 0, 1}, <<"a">>},
          {'==', {binary_part, '$1', 3, -10}, <<>>},
          {'==', {element, 0, '$1'}, 1},
          {'==', {element, 99999999999999999999, '$1'}, 1},
          {'>', {abs, '$1'}, 1}, {'>', {float, '$1'}, 1.0},
          {'>', {round, '$1'}, 1}, {'>', {'/', '$1', 0}, 1},
          {'andalso', true, '$1'}, {'orelse', '$1', true}, {'not', '$1'},
          {'xor', true, '$1'}, {'>', {size, '$1'}, 1},
          {'>', {length, '$1'}, 1}, {'>', {tuple_size, '$1'}, 1},
          {is_function, '$1', 2}, {is_record, '$1', tuple, 3},
          {'==', '$_', '$$'}, {'==', '$2', 1}, {'==', {min, '$1', 1}, 1},
          {'==', {max, '$1', 1}, 1}, {'==', {'band', '$1', 1.5}, 1},
          {'==', {'-', '$1'}, 1}, {'>', {'*', '$1', 1.0e308}, 1},
          {'>', {'/', 1.0e308, 1.0e-308}, 1}, {'==', {'bnot', '$1'}, 1},
          {'>', {trunc, 1.0e300}, 1}, {'>', {'+', 1.0e308, 1.0e308}, 1},
          {is_binary, '$1'}, {'>', {byte_size, '$1'}, 1},
          {'>', {bit_size, '$1'}, 1}, {'==', {{'$1', '$1'}}, {{a, a}}},
          {'==', ['$1'], [1]}, {'==', #{a => '$1'}, #{}},
          {unknown_fun, '$1'}, {'>', '$1'}, {'==', {'*', '$1', '$1'}, 0},
          {'>', {'bsl', {'*', '$1', '$1'}, 1000}, 0},
          {'>', {'+', {'bsl', 1, 1 bsl 20}, {'bsl', 1, 1 bsl 20}}, 0},
          {'=:=', '$1', 1.0}, {'==', '$1', 1}, {'<', '$1', {const, #{}}},
          {'>', {map_size, '$1'}, 0}, {'==', {tl, '$1'}, []},
          term(2)]).

%% keep_while maps with good and bad keys and values.
keep_while() ->
    maps:from_list([{kw_key(), kw_condition()} || _ <- lists:seq(1, ?R(3))]).

kw_key() ->
    case ?R(5) of
        1 -> pick(known_paths());
        2 -> [?THIS_KHEPRI_NODE];
        3 -> pick(["../a", [$^, a], "/:known/:a", [$., foo]]);
        _ -> path()
    end.

kw_condition() ->
    case ?R(5) of
        1 -> term(1);
        2 -> #if_node_exists{exists = bool()};
        3 -> #if_child_list_length{count = {gt, 0}};
        _ -> condition(1)
    end.

node_props() ->
    case ?R(6) of
        1 -> term(1);
        _ -> maps:from_list(
               [pick([{data, term(1)}, {sproc, fun_term()},
                      {payload_version, pick([?R(5), term(1)])},
                      {child_list_version, pick([?R(5), term(1)])},
                      {child_list_length, pick([?R(5) - 1, term(1)])},
                      {child_names, pick([[a, <<"b">>], term(1), [a | b]])},
                      {has_data, pick([true, term(1)])},
                      {is_sproc, pick([true, term(1)])},
                      {raw_payload, pick([{p_data, term(1)},
                                          {p_sproc, fun_term(), rw},
                                          '$__NO_PAYLOAD__', term(1)])}])
                || _ <- lists:seq(1, ?R(4) - 1)])
    end.

%% Tuples shaped like condition records, with a wrong arity or wrong field
%% types.
bad_condition(D) ->
    case ?R(3) of
        1 ->
            pick([{if_has_data}, {if_has_data, true, extra}, {if_all, notalist},
                  {if_all, [a | b]}, {if_any, #{}}, {if_not},
                  {if_not, {if_not, {bad}}}, {if_name_matches, 42, undefined},
                  {if_data_matches, '_'}, {if_node_exists, maybe},
                  {if_payload_version, foo}, {if_child_list_length, {eq}},
                  {if_path_matches, {re, x}, undefined},
                  {if_data_matches, '_', [], undefined, extra},
                  {if_all, [a, {if_has_data}]}, {if_any, [{if_node_exists, 1}]},
                  {if_has_payload, "true"}, {if_has_sproc, 1}]);
        _ ->
            C = condition(max(0, D - 1)),
            case is_tuple(C) andalso tuple_size(C) > 1 of
                true -> setelement(1 + ?R(tuple_size(C) - 1), C, term(1));
                false -> C
            end
    end.

%% -------------------------------------------------------------------
%% Generators: options, payloads, funs, service arguments.
%% -------------------------------------------------------------------

%% Half of the time a valid options map bounding the call to 5 s.
options() ->
    case ?R(2) of
        1 -> valid_options();
        2 -> bad_options()
    end.

valid_options() ->
    Opts = maps:from_list([valid_option() || _ <- lists:seq(1, ?R(3) - 1)]),
    Opts#{timeout => 5000}.

valid_option() ->
    case ?R(11) of
        1 -> {async, case ?R(10) of
                         1 -> pick([true, 7, make_ref(), normal, low,
                                    {3, normal}]);
                         _ -> false
                     end};
        2 -> {reply_from, pick([leader, local, {member, {?STORE, node()}},
                                {member, {foo, bar}}])};
        3 -> {protect_against_dups, bool()};
        4 -> {favor, pick([low_latency, consistency])};
        5 -> {condition, {applied, {pick([1, -1, 1 bsl 70]), pick([1, 0])}}};
        6 -> {expect_specific_node, bool()};
        7 -> {props_to_return, props_list()};
        8 -> {include_root_props, bool()};
        9 -> {return_indirect_deletes, bool()};
        _ -> {keep_while, keep_while()}
    end.

props_list() ->
    [pick([payload_version, child_list_version, child_list_length,
           child_names, payload, has_payload, raw_payload, delete_reason,
           foo, undefined])
     || _ <- lists:seq(1, ?R(4) - 1)].

bad_options() ->
    Known = [timeout, async, reply_from, protect_against_dups, favor,
             condition, expect_specific_node, props_to_return,
             include_root_props, return_indirect_deletes, keep_while],
    case ?R(8) of
        1 -> term(2);
        2 -> (valid_options())#{pick(Known) => term(1)};
        3 -> (valid_options())#{pick([foo, "timeout", 1, <<"async">>, self()])
                                    => term(1)};
        4 -> #{timeout => pick([-1, 1.5, foo, 1 bsl 80, 1 bsl 32, "5000"])};
        5 -> #{keep_while => pick([term(1), #{}, keep_while()])};
        6 -> #{props_to_return => pick([[foo | bar], [payload, "x"], foo,
                                        [payload | payload]])};
        7 -> #{async => pick([{1.5, normal}, {1, high}, high, "x"]),
               timeout => 5000};
        8 -> #{reply_from => pick([{member, x}, {member, {1, 2}}, follower]),
               timeout => 5000}
    end.

%% Payloads: any term, explicit wrappers good and bad, funs.
data() ->
    case ?R(12) of
        N when N =< 4 -> term(3);
        5 -> {p_data, term(2)};
        6 -> {p_sproc, fun_term(), pick([false, rw, x, ro])};
        7 -> {p_sproc, pick([notafun, term(1)]), x};
        8 -> pick([{p_data}, {p_data, a, b}, {p_sproc, fun() -> ok end},
                   {p_sproc}, '$__NO_PAYLOAD__',
                   {p_sproc, fun() -> ok end, rw, extra}]);
        9 -> fun_term();
        10 -> case ?R(50) of
                  1 -> binary:copy(<<"x">>, 70000);
                  _ -> bignum()
              end;
        11 -> float_term();
        12 -> pick([self(), make_ref(), erlang:get(bi_port)])
    end.

fun3() ->
    case ?R(10) of
        1 -> fun(_P, _Props, Acc) -> Acc end;
        2 -> fun(P, _Props, Acc) -> [P | Acc] end;
        3 -> fun(_, _, _) -> erlang:error({?MARK, fold}) end;
        4 -> fun(_, _, _) -> throw({?MARK, fold}) end;
        5 -> fun(_, _, _) -> exit({?MARK, fold}) end;
        6 -> fun(P, _, Acc) -> _ = khepri:exists(?STORE, P), Acc end;
        7 -> fun(P, Props, Acc) -> [{P, Props} | Acc] end;
        8 -> fun2();
        9 -> fun_term();
        10 -> term(1)
    end.

fun2() ->
    case ?R(10) of
        1 -> fun(_, _) -> ok end;
        2 -> fun(P, Props) -> {P, Props} end;
        3 -> fun(_, _) -> erlang:error({?MARK, fun2}) end;
        4 -> fun(_, _) -> throw({?MARK, fun2}) end;
        5 -> fun(_, _) -> exit({?MARK, fun2}) end;
        6 -> fun(P, _) -> khepri:get_or(?STORE, P, none) end;
        7 -> fun(_) -> ok end;
        8 -> fun(_, _, _) -> ok end;
        9 -> fun_term();
        10 -> term(1)
    end.

pred() ->
    case ?R(10) of
        N when N =< 2 -> fun(_, _) -> bool() end;
        3 -> fun(_, #{data := _}) -> true; (_, _) -> false end;
        4 -> fun(_, _) -> erlang:error({?MARK, pred}) end;
        5 -> fun(_, _) -> throw({?MARK, pred}) end;
        6 -> fun(_, _) -> ?NOT_BOOL end;
        7 -> fun(P, _) -> khepri:exists(?STORE, P) end;
        8 -> fun(_) -> true end;
        9 -> fun_term();
        10 -> term(1)
    end.

evf() -> erlang:get(bi_evf).

evf_props() ->
    case ?R(5) of
        1 -> term(1);
        _ -> maps:from_list(
               [pick([{on_actions, pick([[create], [create, update, delete], [],
                                         [foo], create, [create | x],
                                         term(1)])},
                      {priority, pick([?R(100) - 50, 1 bsl 70, 1.5, term(1)])},
                      {pick([foo, type, "on_actions"]), term(1)}])
                || _ <- lists:seq(1, ?R(3) - 1)])
    end.

projection() -> erlang:get(bi_projection).

proj_name() -> pick([foo, bar, a, term(1)]).

proj_fun() ->
    pick([copy, copy, fun(_P, D) -> D end, fun(_T, _P, _O, _N) -> ok end,
          fun(_, _, _) -> ok end, fun() -> ok end, term(1)]).

proj_options() ->
    case ?R(6) of
        1 -> term(1);
        _ -> maps:from_list([proj_option() || _ <- lists:seq(1, ?R(3) - 1)])
    end.

proj_option() ->
    pick([{type, pick([set, ordered_set, bag, duplicate_bag, foo, term(1)])},
          {keypos, pick([1, 2, 0, -1, 1 bsl 70, term(1)])},
          {read_concurrency, pick([true, false, auto, term(1)])},
          {write_concurrency, pick([true, false, auto, term(1)])},
          {compressed, pick([true, false, term(1)])},
          {protection, pick([public, protected, private, term(1)])},
          {tables, pick([#{a => #{}}, #{a => #{type => bag}, b => #{}}, #{},
                         #{a => notamap}, #{"a" => #{}}, term(1)])},
          {standalone_fun_options, term(1)},
          {pick([foo, heir, named_table]), term(1)}]).

%% Data directories: the temp dir (and subdirectories of it), unknown Ra
%% system names and bad terms; never a relative path (it would create
%% directories in the working directory).
data_dir() ->
    Dir = erlang:get(bi_dir),
    case ?R(8) of
        N when N =< 2 -> Dir;
        3 -> list_to_binary(Dir);
        4 -> Dir ++ "/sub";
        5 -> pick([foo, unknown_store, undefined, '']);
        6 -> pick([42, {x}, self(), 1.5, #{}, make_ref(), fun() -> ok end]);
        7 -> Dir ++ "/" ++ [pick([-1, 1.5, foo, <<"x">>, {a}, 16#110000,
                                   16#D800])];
        8 -> <<(list_to_binary(Dir))/binary, "/", (rand:bytes(3))/binary>>
    end.

%% Store ids and configs for start: the store under test (already
%% running), two extra store ids, configs and bad terms.
start_store_id() ->
    case ?R(10) of
        N when N =< 4 -> ?STORE;
        N when N =< 5 -> pick([bi_extra_1, bi_extra_2]);
        N when N =< 8 ->
            maps:from_list(
              [{cluster_name, pick([?STORE, ?STORE, bi_extra_1, "x",
                                    term(1)])}] ++
                  [pick([{machine_config,
                          pick([#{}, #{snapshot_interval => term(1)},
                                #{snapshot_interval => pick([0, -1, 1 bsl 70,
                                                             100])},
                                #{pick([snapshot_time_interval,
                                        unreleased_command_footprint_threshold,
                                        log_to_snapshot_ratio]) =>
                                      pick([0, -1, 1 bsl 70, 2.5, infinity, term(1)])},
                                notamap, #{foo => 1}])},
                         {friendly_name, term(1)},
                         {initial_members, term(1)},
                         {term(1), term(1)}])
                   || _ <- lists:seq(1, ?R(3) - 1)]);
        _ -> term(1)
    end.

start_timeout() ->
    pick([5000, 5000, infinity, 0, -1, foo, 1 bsl 40, 1.5, term(1)]).

%% Never the store under test: stopping it would end the test.
stop_store_id() ->
    case ?R(4) of
        1 -> pick([bi_extra_1, bi_extra_2]);
        2 -> pick([unknown_store, foo, init, user, khepri_sup, '']);
        _ -> case term(1) of
                 ?STORE -> unknown_store;
                 T -> T
             end
    end.

%% -------------------------------------------------------------------
%% Reporting.
%% -------------------------------------------------------------------

print_distribution(#{tally := T}) ->
    io:format(user, "~n~s: outcomes per function~n", [?MODULE]),
    lists:foreach(
      fun({{M, F}, Labels}) ->
              Total = lists:sum(maps:values(Labels)),
              Parts = [io_lib:format("~s=~b", [label(L), N])
                       || {L, N} <- lists:reverse(
                                       lists:keysort(2, maps:to_list(Labels)))],
              io:format(user, "  ~-45s ~6b  ~s~n",
                        [io_lib:format("~p:~p", [M, F]), Total,
                         lists:join(" ", Parts)])
      end, lists:sort(maps:to_list(T))).

label(value) -> "value";
label(head_clause) -> "head_clause";
label(user_fun) -> "user_fun";
label(failure) -> "FAILURE";
label({error, N}) -> io_lib:format("err:~p", [N]);
label({raise, N}) -> io_lib:format("raise:~p", [N]);
label({throw, N}) -> io_lib:format("throw:~p", [N]);
label({known_gap, Id}) -> io_lib:format("KNOWN_GAP:~p", [Id]).

print_failures([]) ->
    ok;
print_failures(Failures) ->
    io:format(user, "~n~s: ~b distinct failures:~n",
              [?MODULE, length(Failures)]),
    lists:foreach(
      fun({_Key, {M, F, A, Args, Outcome, Why}}) ->
              io:format(user, "~n* ~p:~p/~b (~p)~n  args: ~0P~n  ~s~n",
                        [M, F, A, Why, Args, 30, format_outcome(Outcome)]);
         ({_Key, Other}) ->
              io:format(user, "~n* ~0P~n", [Other, 30])
      end, Failures).

print_gaps(GapHits) ->
    [io:format(user, "~s: known gap ~p hit ~b times; expected: ~s~n",
               [?MODULE, Id, N, Expected])
     || {Id, _, Expected} <- known_gaps(),
        N <- [maps:get(Id, GapHits, 0)], N > 0],
    ok.

print_signatures(#{sigs := Sigs, atom_calls := AC}) ->
    [io:format(user, "~n~s: calls that grew the atom table:~n~s",
               [?MODULE,
                [io_lib:format("  +~b (~p) ~p:~p ~0P~n",
                               [D, K, M, F, Args, 20])
                 || {K, D, M, F, Args} <- lists:reverse(AC)]])
     || AC =/= []],
    [io:format(user, "~n~s: failures by signature:~n", [?MODULE])
     || map_size(Sigs) > 0],
    lists:foreach(
      fun({Sig, {N, {M, F, A, Args, Outcome, _Why}}}) ->
              io:format(user, "~n# ~b x ~0P~n  e.g. ~p:~p/~b ~0P~n  ~s~n",
                        [N, Sig, 20, M, F, A, Args, 25,
                         format_outcome(Outcome)])
      end, lists:reverse(lists:keysort(2, maps:to_list(Sigs)))).

format_outcome({return, V}) ->
    io_lib:format("returned: ~0P", [V, 30]);
format_outcome({raise, C, R, St}) ->
    io_lib:format("raised: ~p:~0P~n  stack: ~0P",
                  [C, R, 30, top_frames(St), 30]).

top_frames(Stack) ->
    top_frames(Stack, 3).

top_frames(Stack, N) ->
    [case Frame of
         {M, F, Args, Loc} when is_list(Args) -> {M, F, length(Args), Loc};
         Other -> Other
     end || Frame <- lists:sublist(Stack, N)].
