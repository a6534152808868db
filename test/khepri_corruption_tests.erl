%% @doc A store whose files were damaged refuses to start, with
%% `{error, {cannot_open_store, Reason}}' where `Reason' (a binary) names the
%% damaged file and, for the log, the offset; it never starts with
%% acknowledged writes missing. Each test writes through the API, stops the
%% store, damages its real files, and starts it again; undoing the damage
%% brings every write back (nothing was "repaired" away on the way).
-module(khepri_corruption_tests).

-include_lib("eunit/include/eunit.hrl").

-import(khepri_test_helpers, [tmp_dir/1, wait_until/2]).

-define(KEYS, 200).
%% Layout of a log segment (native/khepri_log): a 32-byte header, then
%% frames of a 16-byte header (length, CRC, index) and the payload.
-define(SEGMENT_HEADER, 32).
-define(FRAME_HEADER, 16).

bad_checksum_before_the_last_record_test_() ->
    {timeout, 60, fun() ->
        with_damaged_log(corrupt_crc, fun(Segment, Frames) ->
            {Offset, _} = lists:nth(3, Frames),
            ok = khepri_test_helpers:flip_byte(Segment, Offset + ?FRAME_HEADER + 1),
            Offset
        end)
    end}.

garbage_in_a_record_before_the_last_test_() ->
    {timeout, 60, fun() ->
        with_damaged_log(corrupt_garbage, fun(Segment, Frames) ->
            {Offset, Len} = lists:nth(length(Frames) div 2, Frames),
            ok = pwrite(Segment, Offset + 2, binary:copy(<<"garbage!">>, Len div 8)),
            Offset
        end)
    end}.

%% A damaged length field would make the record run over its successors.
bad_length_before_the_last_record_test_() ->
    {timeout, 60, fun() ->
        with_damaged_log(corrupt_length, fun(Segment, Frames) ->
            {Offset, _} = lists:nth(10, Frames),
            ok = pwrite(Segment, Offset, <<16#7fffffff:32/little>>),
            Offset
        end)
    end}.

damaged_snapshot_test_() ->
    {timeout, 60, fun() ->
        with_snapshotted_store(corrupt_snap, fun(S, Dir, Snapshot) ->
            Size = filelib:file_size(Snapshot),
            Restore = backup(Snapshot),
            ok = khepri_test_helpers:flip_byte(Snapshot, Size div 2),
            Reason = refused(S, Dir),
            assert_names(Reason, Snapshot),
            ?assertNotEqual(nomatch, string:find(Reason, <<"offset">>)),
            ok = Restore()
        end)
    end}.

missing_snapshot_test_() ->
    {timeout, 60, fun() ->
        with_snapshotted_store(missing_snap, fun(S, Dir, Snapshot) ->
            Restore = backup(Snapshot),
            ok = file:delete(Snapshot),
            Reason = refused(S, Dir),
            assert_names(Reason, Snapshot),
            ?assertNotEqual(nomatch, string:find(Reason, <<"missing">>)),
            ok = Restore()
        end)
    end}.

%% Segments of 64 KiB (a store option the public API does not expose) so a
%% few hundred writes span several.
missing_segment_test_() ->
    {timeout, 60, fun() ->
        S = corrupt_gap,
        DataDir = tmp_dir("corrupt-gap"),
        Dir = filename:join(DataDir, atom_to_list(S)),
        ok = filelib:ensure_path(Dir),
        try
            {ok, _} = application:ensure_all_started(khepri),
            {ok, _} = khepri_sup:start_store(S, Dir, #{timeout => 30000,
                                                      segment_bytes => 65536}),
            Value = binary:copy(<<"v">>, 1000),
            [ok = khepri:put(S, key(N), Value) || N <- lists:seq(1, ?KEYS)],
            ok = khepri:stop(S),
            [First, Second | _] = Segments = segments(Dir),
            ?assert(length(Segments) >= 3),
            %% a hole in the sequence: named after the segment that follows
            RestoreSecond = backup(Second),
            ok = file:delete(Second),
            assert_names(refused(S, DataDir), lists:nth(3, Segments)),
            ok = RestoreSecond(),
            %% the first one, with no snapshot covering it
            RestoreFirst = backup(First),
            ok = file:delete(First),
            Reason = refused(S, DataDir),
            ?assertNotEqual(nomatch, string:find(Reason, <<"missing">>)),
            ?assertNotEqual(nomatch, string:find(Reason, <<"log">>)),
            ok = RestoreFirst(),
            %% the last one: the writes it held were committed
            Last = lists:last(Segments),
            RestoreLast = backup(Last),
            ok = file:delete(Last),
            ?assertNotEqual(nomatch, string:find(refused(S, DataDir), <<"missing">>)),
            %% and as a kill -9 leaves it, without the committed index a
            %% clean stop writes: the segment before says one followed it
            Committed = filename:join([Dir, "log", "committed"]),
            RestoreCommitted = backup(Committed),
            ok = file:delete(Committed),
            Killed = refused(S, DataDir),
            assert_names(Killed, lists:nth(length(Segments) - 1, Segments)),
            assert_names(Killed, Last),
            ok = RestoreCommitted(),
            ok = RestoreLast(),
            {ok, S} = khepri:start(DataDir, S),
            [?assertEqual({ok, Value}, khepri:get(S, key(N))) || N <- lists:seq(1, ?KEYS)]
        after
            ok = khepri:stop(S),
            _ = file:del_dir_r(DataDir)
        end
    end}.

%% -------------------------------------------------------------------
%% Helpers
%% -------------------------------------------------------------------

%% Writes, stops, lets `Damage(Segment, Frames)' damage the only segment
%% and return the offset of the damaged frame, checks that the store
%% refuses to start naming both, then undoes the damage and checks that
%% every write is back.
with_damaged_log(S, Damage) ->
    Dir = tmp_dir(atom_to_list(S)),
    try
        {ok, S} = khepri:start(Dir, S),
        [ok = khepri:put(S, key(N), N) || N <- lists:seq(1, ?KEYS)],
        ok = khepri:stop(S),
        [Segment] = segments(filename:join(Dir, atom_to_list(S))),
        Restore = backup(Segment),
        Offset = Damage(Segment, frames(Segment)),
        Reason = refused(S, Dir),
        assert_names(Reason, Segment),
        ?assertNotEqual(nomatch, string:find(Reason, io_lib:format("offset ~b:", [Offset]))),
        ok = Restore(),
        {ok, S} = khepri:start(Dir, S),
        [?assertEqual({ok, N}, khepri:get(S, key(N))) || N <- lists:seq(1, ?KEYS)]
    after
        ok = khepri:stop(S),
        _ = file:del_dir_r(Dir)
    end.

%% A store that took a snapshot and purged its log behind it, stopped:
%% `Fun(S, DataDir, SnapshotFile)' damages it; then every write is back.
with_snapshotted_store(S, Fun) ->
    Dir = tmp_dir(atom_to_list(S)),
    Config = #{cluster_name => S, machine_config => #{snapshot_interval => 20}},
    StoreDir = filename:join(Dir, atom_to_list(S)),
    Snapshot = filename:join([StoreDir, "snapshot", "snapshot"]),
    try
        {ok, S} = khepri:start(Dir, Config),
        [ok = khepri:put(S, key(N), N) || N <- lists:seq(1, ?KEYS)],
        ok = wait_until(fun() ->
                                filelib:is_regular(Snapshot) andalso
                                    filelib:is_regular(filename:join([StoreDir, "log", "purged"]))
                        end, 30000),
        ok = khepri:stop(S),
        Fun(S, Dir, Snapshot),
        {ok, S} = khepri:start(Dir, Config),
        [?assertEqual({ok, N}, khepri:get(S, key(N))) || N <- lists:seq(1, ?KEYS)]
    after
        ok = khepri:stop(S),
        _ = file:del_dir_r(Dir)
    end.

%% Starts `S' in `Dir', which must fail with `cannot_open_store'; returns
%% the reason. The store is not left half-started: its API answers noproc.
refused(S, Dir) ->
    Result = khepri:start(Dir, S),
    ?assertMatch({error, {cannot_open_store, _}}, Result),
    {error, {cannot_open_store, Reason}} = Result,
    ?assert(is_binary(Reason)),
    ?assertEqual({error, noproc}, khepri:get(S, key(1))),
    ?assertNot(khepri_cluster:is_store_running(S)),
    Reason.

assert_names(Reason, File) ->
    ?assertNotEqual(nomatch, string:find(Reason, unicode:characters_to_binary(File))).

key(N) -> [k, integer_to_binary(N)].

segments(StoreDir) ->
    LogDir = filename:join(StoreDir, "log"),
    {ok, Files} = file:list_dir(LogDir),
    [filename:join(LogDir, F) || F <- lists:sort(Files), filename:extension(F) =:= ".seg"].

%% `[{Offset, PayloadLength}]' of every frame of a segment, in order.
frames(Segment) ->
    {ok, Bin} = file:read_file(Segment),
    <<_:?SEGMENT_HEADER/binary, Rest/binary>> = Bin,
    frames(Rest, ?SEGMENT_HEADER).

frames(<<0:(?FRAME_HEADER * 8), _/binary>>, _) ->
    [];
frames(<<Len:32/little, _Crc:32, _Index:64, _:Len/binary, Rest/binary>>, Offset) ->
    [{Offset, Len} | frames(Rest, Offset + ?FRAME_HEADER + Len)];
frames(_, _) ->
    [].

%% Saves the file's bytes; the returned fun puts them back.
backup(File) ->
    {ok, Bin} = file:read_file(File),
    fun() -> file:write_file(File, Bin) end.

pwrite(File, Offset, Bytes) ->
    {ok, Fd} = file:open(File, [read, write, raw, binary]),
    try
        file:pwrite(Fd, Offset, Bytes)
    after
        file:close(Fd)
    end.
