%% @doc Restart and recovery of one member from its files: a clean stop and
%% start keeps everything; a torn last log record is dropped with a warning
%% while every earlier record survives.
-module(khepri_recovery_tests).

-include_lib("eunit/include/eunit.hrl").

-export([log/2]).

-import(khepri_test_helpers, [tmp_dir/1]).

clean_restart_keeps_every_write_test_() ->
    {timeout, 60, fun() ->
        Dir = tmp_dir("restart"),
        {ok, rs1} = khepri:start(Dir, rs1),
        [ok = khepri:put(rs1, [k, integer_to_binary(N)], N) || N <- lists:seq(1, 500)],
        ok = khepri:delete(rs1, [k, <<"7">>]),
        ok = khepri:stop(rs1),
        {ok, rs1} = khepri:start(Dir, rs1),
        try
            [?assertEqual({ok, N}, khepri:get(rs1, [k, integer_to_binary(N)]))
             || N <- lists:seq(1, 500), N =/= 7],
            ?assertNot(khepri:exists(rs1, [k, <<"7">>])),
            %% and it keeps accepting writes
            ?assertEqual(ok, khepri:put(rs1, [k, <<"new">>], new))
        after
            ok = khepri:stop(rs1),
            _ = file:del_dir_r(Dir)
        end
    end}.

restart_after_the_application_stopped_test_() ->
    {timeout, 60, fun() ->
        Dir = tmp_dir("apprestart"),
        {ok, rs2} = khepri:start(Dir, rs2),
        ok = khepri:put(rs2, [a], 1),
        ok = application:stop(khepri),
        ?assertEqual({error, noproc}, khepri:get(rs2, [a])),
        {ok, rs2} = khepri:start(Dir, rs2),
        try
            ?assertEqual({ok, 1}, khepri:get(rs2, [a]))
        after
            ok = khepri:stop(rs2),
            _ = file:del_dir_r(Dir)
        end
    end}.

torn_last_record_is_dropped_with_a_warning_test_() ->
    {timeout, 60, fun() ->
        Dir = tmp_dir("torn"),
        {ok, rs3} = khepri:start(Dir, rs3),
        [ok = khepri:put(rs3, key(N), N) || N <- lists:seq(1, 20)],
        ok = khepri:stop(rs3),
        Segment = last_segment(filename:join([Dir, "rs3", "log"])),
        ok = tear_last_record(Segment),
        ok = logger:add_handler(?MODULE, ?MODULE, #{config => self(),
                                                    level => warning}),
        try
            {ok, rs3} = khepri:start(Dir, rs3),
            Warning = receive {?MODULE, Msg} -> Msg
                      after 10000 -> error(no_warning_logged)
                      end,
            ?assertNotEqual(nomatch, string:find(Warning, filename:basename(Segment))),
            [?assertEqual({ok, N}, khepri:get(rs3, key(N))) || N <- lists:seq(1, 19)],
            ?assertNot(khepri:exists(rs3, key(20))),
            ?assertEqual(ok, khepri:put(rs3, key(20), again)),
            ok = khepri:stop(rs3),
            {ok, rs3} = khepri:start(Dir, rs3),
            ?assertEqual({ok, again}, khepri:get(rs3, key(20)))
        after
            _ = logger:remove_handler(?MODULE),
            ok = khepri:stop(rs3),
            _ = file:del_dir_r(Dir)
        end
    end}.

%% A logger handler that forwards warnings to the test process.
%% @private
log(#{level := Level, msg := Msg}, #{config := Pid})
  when Level =:= warning; Level =:= error ->
    Text = case Msg of
               {report, R} -> io_lib:format("~p", [R]);
               {string, S} -> S;
               {Format, Args} -> io_lib:format(Format, Args)
           end,
    Pid ! {?MODULE, lists:flatten(io_lib:format("~ts", [Text]))},
    ok;
log(_, _) ->
    ok.

key(N) -> [k, integer_to_binary(N)].

last_segment(LogDir) ->
    {ok, Files} = file:list_dir(LogDir),
    Segs = lists:sort([F || F <- Files, filename:extension(F) =:= ".seg"]),
    filename:join(LogDir, lists:last(Segs)).

%% Zeroes the last bytes of the last record, as a write cut short by a crash
%% leaves it (segments are zero-filled past their data).
tear_last_record(Segment) ->
    {ok, Bin} = file:read_file(Segment),
    End = last_nonzero(Bin, byte_size(Bin) - 1) + 1,
    {ok, Fd} = file:open(Segment, [read, write, raw, binary]),
    ok = file:pwrite(Fd, End - 3, <<0, 0, 0>>),
    ok = file:sync(Fd),
    file:close(Fd).

last_nonzero(Bin, I) ->
    case binary:at(Bin, I) of
        0 -> last_nonzero(Bin, I - 1);
        _ -> I
    end.
