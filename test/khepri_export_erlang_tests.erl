%% EUnit tests of khepri_export_erlang, driven through its callbacks the way
%% khepri:export/import call them. Pure Erlang: no store, no NIF.
-module(khepri_export_erlang_tests).

-include_lib("eunit/include/eunit.hrl").

-define(M, khepri_export_erlang).

items() ->
    [{put, [users, <<"bob">>], {p_data, #{email => <<"b@x">>}}, #{}},
     {put, [stock], '$__NO_PAYLOAD__',
      #{keep_while => #{[users] => {if_node_exists, true}}}},
     {put, [sprocs, s], {p_sproc, term_to_binary(fun lists:reverse/1), rw},
      #{}},
     {delete, [old], #{}},
     %% Text corner cases: Unicode in binaries (UTF-8), atoms and strings,
     %% floats, bit strings, improper lists, external funs.
     {put, ['été', <<"naïve"/utf8>>],
      {p_data, {"déjà", [20320, 22909], list_to_atom([20320]), 0.1, -0.0,
                1.0e300, <<1:3>>, [a | b], fun lists:map/2, 1 bsl 100}},
      #{}}].

%% A file name in a fresh directory; cleanup/1 removes the directory.
tmp_file(Name) ->
    filename:join(khepri_test_helpers:tmp_dir("export_erlang"), Name).

cleanup(File) ->
    ok = file:del_dir_r(filename:dirname(File)).

export(Priv, Batches) ->
    {ok, S0} = ?M:open_write(Priv),
    S = lists:foldl(fun(Batch, S1) ->
                            {ok, S2} = ?M:write(S1, Batch),
                            S2
                    end, S0, Batches),
    ?M:commit_write(S).

import(Priv) ->
    {ok, S0} = ?M:open_read(Priv),
    read_all(S0, []).

read_all(S, Acc) ->
    case ?M:read(S) of
        {ok, [], S1} ->
            ok = ?M:close_read(S1),
            lists:append(lists:reverse(Acc));
        {ok, Items, S1} ->
            read_all(S1, [Items | Acc])
    end.

%% -------------------------------------------------------------------
%% Round trips.
%% -------------------------------------------------------------------

file_round_trip_test() ->
    File = tmp_file("export.erl"),
    Items = items(),
    ?assertEqual(ok, export(File, [lists:sublist(Items, 2),
                                   [],
                                   lists:nthtail(2, Items)])),
    ?assertEqual(Items, import(File)),
    %% The file is plain UTF-8 Erlang terms: file:consult/1 reads it too.
    ?assertEqual({ok, Items}, file:consult(File)),
    %% One item per line, as `~0p'.
    {ok, Text} = file:read_file(File),
    [FirstLine | _] = binary:split(Text, <<"\n">>),
    ?assertEqual(
       <<"{put,[users,<<\"bob\">>],{p_data,#{email => <<\"b@x\">>}},#{}}.">>,
       FirstLine),
    cleanup(File).

binary_filename_test() ->
    File = list_to_binary(tmp_file("export.erl")),
    ?assertEqual(ok, export(File, [items()])),
    ?assertEqual(items(), import(File)),
    cleanup(File).

device_round_trip_test() ->
    File = tmp_file("device.erl"),
    {ok, Out} = file:open(File, [write, {encoding, utf8}]),
    ?assertEqual(ok, export(Out, [items()])),
    %% The device is left open: the caller may keep writing.
    ?assertEqual(ok, io:put_chars(Out, "{extra, 1}.\n")),
    ok = file:close(Out),
    {ok, In} = file:open(File, [read, {encoding, utf8}]),
    ?assertEqual(items() ++ [{extra, 1}], import(In)),
    %% Still open after close_read/1.
    ?assertEqual(eof, io:get_line(In, '')),
    ok = file:close(In),
    cleanup(File).

latin1_device_round_trip_test() ->
    %% A device's own encoding applies both ways.
    File = tmp_file("latin1.erl"),
    {ok, Out} = file:open(File, [write]),
    ?assertEqual(ok, export(Out, [items()])),
    ok = file:close(Out),
    {ok, In} = file:open(File, [read]),
    ?assertEqual(items(), import(In)),
    ok = file:close(In),
    cleanup(File).

chunked_read_test() ->
    %% About 100 KiB worth of items per read/1 call, in order.
    File = tmp_file("big.erl"),
    Items = [{put, [n, I], {p_data, binary:copy(<<"x">>, 1000)}, #{}}
             || I <- lists:seq(1, 500)],
    ?assertEqual(ok, export(File, [Items])),
    {ok, S0} = ?M:open_read(File),
    {ok, Batch1, S1} = ?M:read(S0),
    ?assert(length(Batch1) > 50),
    ?assert(length(Batch1) < 500),
    ?assertEqual(lists:sublist(Items, length(Batch1)), Batch1),
    ok = ?M:close_read(S1),
    ?assertEqual(Items, import(File)),
    cleanup(File).

empty_export_test() ->
    File = tmp_file("empty.erl"),
    ?assertEqual(ok, export(File, [])),
    ?assertEqual([], import(File)),
    cleanup(File).

%% -------------------------------------------------------------------
%% Failures.
%% -------------------------------------------------------------------

abort_deletes_file_test() ->
    File = tmp_file("aborted.erl"),
    {ok, S0} = ?M:open_write(File),
    {ok, S1} = ?M:write(S0, items()),
    ?assert(filelib:is_regular(File)),
    ?assertEqual(ok, ?M:abort_write(S1)),
    ?assertNot(filelib:is_regular(File)),
    cleanup(File).

abort_leaves_device_open_test() ->
    File = tmp_file("aborted_device.erl"),
    {ok, Out} = file:open(File, [write]),
    {ok, S0} = ?M:open_write(Out),
    {ok, S1} = ?M:write(S0, [{a, 1}]),
    ?assertEqual(ok, ?M:abort_write(S1)),
    ?assertEqual(ok, io:put_chars(Out, "{b, 2}.\n")),
    ok = file:close(Out),
    ?assertEqual({ok, [{a, 1}, {b, 2}]}, file:consult(File)),
    cleanup(File).

terms_without_text_form_test() ->
    %% A local fun, a pid, a port or a reference would be written as text
    %% that does not read back: the batch is refused, nothing is written.
    File = tmp_file("refused.erl"),
    Fun = fun() -> ok end,
    Port = hd(erlang:ports()),
    Ref = make_ref(),
    {ok, S0} = ?M:open_write(File),
    {ok, S1} = ?M:write(S0, [{ok, 1}]),
    ?assertEqual({error, {unsupported_term, Fun}},
                 ?M:write(S1, [{ok, 2}, {put, [f], {p_data, Fun}, #{}}])),
    ?assertEqual({error, {unsupported_term, self()}},
                 ?M:write(S1, [#{key => [x | self()]}])),
    ?assertEqual({error, {unsupported_term, Port}},
                 ?M:write(S1, [#{Port => x}])),
    ?assertEqual({error, {unsupported_term, Ref}}, ?M:write(S1, [[{Ref}]])),
    ?assertEqual(ok, ?M:commit_write(S1)),
    ?assertEqual([{ok, 1}], import(File)),
    cleanup(File).

open_errors_test() ->
    Missing = tmp_file("no_such_dir/file.erl"),
    ?assertEqual({error, enoent}, ?M:open_read(Missing)),
    ?assertEqual({error, enoent}, ?M:open_write(Missing)),
    cleanup(filename:dirname(Missing)),
    ?assertEqual({error, badarg}, ?M:open_write(42)),
    ?assertEqual({error, badarg}, ?M:open_read({not_a, device})).

parse_error_test() ->
    File = tmp_file("garbage.erl"),
    ok = file:write_file(File, <<"{ok, 1}.\n{oops,.\n">>),
    {ok, S0} = ?M:open_read(File),
    ?assertMatch({error, {_, erl_parse, _}}, ?M:read(S0)),
    cleanup(File).

coding_comment_test() ->
    %% A Latin-1 file written by hand, with its coding comment.
    File = tmp_file("latin1_by_hand.erl"),
    ok = file:write_file(
           File, <<"%% -*- coding: latin-1 -*-\n{'", 233, "'}.\n">>),
    ?assertEqual([{'é'}], import(File)),
    cleanup(File).
