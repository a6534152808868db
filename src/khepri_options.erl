%% @doc Validation of the options maps of the public API (SPEC 1.3).
%%
%% Every known key is checked for its value; an unknown key or a bad value
%% raises `invalid_option'. Known keys that do not apply to a call are
%% ignored, so one options map can be reused across calls.
-module(khepri_options).

-include("khepri.hrl").

-export([validate/1, timeout/1]).

-define(INVALID(K, V),
        erlang:error(?khepri_exception(invalid_option, #{option => K, value => V}))).

%% @doc Returns `ok' or raises `invalid_option'.
-spec validate(term()) -> ok.
validate(Opts) when Opts =:= #{} ->
    ok;
validate(Opts) when is_map(Opts) ->
    maps:foreach(fun check/2, Opts);
validate(Other) ->
    ?INVALID(options, Other).

%% A proper list of atoms (an improper list is refused, not crashed on).
atoms_only([A | Rest]) when is_atom(A) -> atoms_only(Rest);
atoms_only([]) -> true;
atoms_only(_) -> false.

%% @doc The call's timeout: the `timeout' option, else the application's
%% `default_timeout' (itself `infinity' by default).
-spec timeout(map()) -> timeout().
timeout(#{timeout := T}) -> T;
timeout(_) -> khepri_env:default_timeout().

%% A timeout is used in `receive ... after', which takes at most 2^32-1 ms.
check(timeout, V) when V =:= infinity;
                       is_integer(V) andalso V >= 0 andalso V =< 16#FFFFFFFF -> ok;
check(async, V) when is_boolean(V); is_integer(V); is_reference(V) -> ok;
check(async, V) when V =:= normal; V =:= low -> ok;
check(async, {C, P}) when (is_integer(C) orelse is_reference(C)) andalso
                              (P =:= normal orelse P =:= low) -> ok;
check(reply_from, V) when V =:= leader; V =:= local -> ok;
check(reply_from, {member, {S, N}}) when is_atom(S), is_atom(N) -> ok;
check(protect_against_dups, V) when is_boolean(V) -> ok;
check(favor, V) when V =:= low_latency; V =:= consistency -> ok;
check(condition, {applied, {I, T}}) when is_integer(I), I >= 0, I < 1 bsl 64,
                                          is_integer(T), T >= 0 -> ok;
check(expect_specific_node, V) when is_boolean(V) -> ok;
check(props_to_return, V) ->
    case atoms_only(V) of
        true -> ok;
        false -> ?INVALID(props_to_return, V)
    end;
check(include_root_props, V) when is_boolean(V) -> ok;
check(return_indirect_deletes, V) when is_boolean(V) -> ok;
check(keep_while, V) when is_map(V) -> ok;
check(K, V) -> ?INVALID(K, V).
