#!/usr/bin/env escript
%% -*- erlang -*-
%% Runs bench/khepri_bench.erl against the library built by `rebar3 compile'.
%% Usage: escript bench/run.escript [khepri_bench options, e.g. --quick]
%% The module is compiled in memory on each run, so the bench needs no build
%% step of its own and never leaves a .beam in the tree.
-mode(compile).

main(Args) ->
    Bench = filename:dirname(filename:absname(escript:script_name())),
    Root = filename:dirname(Bench),
    Ebin = filename:join([Root, "_build", "rebar3", "default", "lib",
                          "khepri", "ebin"]),
    case filelib:is_file(filename:join(Ebin, "khepri.app")) of
        true -> ok;
        false -> fail("~s: no khepri.app; run `rebar3 compile' first", [Ebin])
    end,
    true = code:add_patha(Ebin),
    [case compile:file(Src, [binary, report, warnings_as_errors, debug_info]) of
         {ok, Mod, Beam} ->
             {module, Mod} = code:load_binary(Mod, Src, Beam);
         error ->
             fail("~s does not compile", [Src])
     end || Src <- filelib:wildcard(filename:join(Bench, "khepri_bench*.erl"))],
    try khepri_bench:main(Args) of
        ok -> ok
    catch
        Class:Reason:Stack ->
            fail("~p:~p~n~p", [Class, Reason, Stack])
    end.

fail(Fmt, Args) ->
    io:format(standard_error, "run.escript: " ++ Fmt ++ "~n", Args),
    halt(1).
