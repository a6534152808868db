%% @doc A linearizability checker for histories of operations on registers
%% (one register per key), after Wing and Gong, with Lowe's memoization of
%% visited configurations.
%%
%% An operation is `#{key, invoke, complete, op, result}': `invoke' and
%% `complete' are times (any totally ordered numbers) taken by the client
%% before it called and after it got the answer; an operation whose outcome
%% is unknown (a timeout) has `complete => infinity' and any `result': it may
%% have taken effect at any point after its invocation, or never.
%%
%% Operations: `{put, V}' answering `ok'; `get' answering `{ok, V}' or
%% `not_found'; `{cas, Expected, V}' answering `ok' (the register held
%% `Expected' and now holds `V') or `mismatch' (it did not, unchanged).
%%
%% Keys are independent registers, so each key's sub-history is checked on
%% its own (linearizability is compositional).
-module(khepri_linearizability).

-export([check/1, check/2]).

-type op() :: #{key := term(), invoke := number(), complete := number() | infinity,
                op := get | {put, term()} | {cas, term(), term()}, result := term()}.
-export_type([op/0]).

%% @doc `ok' when the history is linearizable with every register initially
%% absent, else `{violation, Key, Ops}' naming a key whose sub-history is not.
-spec check([op()]) -> ok | {violation, term(), [op()]}.
check(History) ->
    check(History, not_found).

%% @doc Like `check/1' with every register initially `Init' (`not_found' or
%% `{ok, V}').
-spec check([op()], term()) -> ok | {violation, term(), [op()]}.
check(History, Init) ->
    Keys = lists:usort([K || #{key := K} <- History]),
    check_keys(Keys, History, Init).

check_keys([], _History, _Init) ->
    ok;
check_keys([Key | Rest], History, Init) ->
    Ops = [Op || #{key := K} = Op <- History, K =:= Key],
    Numbered = lists:zip(lists:seq(0, length(Ops) - 1), Ops),
    case search(Numbered, Init, #{}) of
        {true, _} -> check_keys(Rest, History, Init);
        {false, _} -> {violation, Key, Ops}
    end.

%% Tries every operation that may come first (invoked before any pending
%% operation completed), applies it to the register, and goes on with the
%% rest. Configurations (operations left, register state) already found to
%% be dead ends are remembered.
search([], _State, Seen) ->
    {true, Seen};
search(Pending, State, Seen) ->
    case lists:all(fun({_, #{complete := C}}) -> C =:= infinity end, Pending) of
        true ->
            %% Only unknown outcomes left: they may all take effect last, or
            %% not at all; nothing observed them.
            {true, Seen};
        false ->
            Config = {[I || {I, _} <- Pending], State},
            case maps:is_key(Config, Seen) of
                true -> {false, Seen};
                false -> try_first(candidates(Pending), Pending, State, Seen#{Config => dead})
            end
    end.

candidates(Pending) ->
    FirstCompletion = lists:min([C || {_, #{complete := C}} <- Pending]),
    [Entry || {_, #{invoke := I}} = Entry <- Pending, I < FirstCompletion].

try_first([], _Pending, _State, Seen) ->
    {false, Seen};
try_first([{Id, Op} | Rest], Pending, State, Seen) ->
    Left = lists:keydelete(Id, 1, Pending),
    case try_outcomes(step(Op, State), Left, Seen) of
        {true, _} = Found -> Found;
        {false, Seen1} -> try_first(Rest, Pending, State, Seen1)
    end.

try_outcomes([], _Left, Seen) ->
    {false, Seen};
try_outcomes([State | Rest], Left, Seen) ->
    case search(Left, State, Seen) of
        {true, _} = Found -> Found;
        {false, Seen1} -> try_outcomes(Rest, Left, Seen1)
    end.

%% The register states after `Op' took effect on `State' and gave the
%% result the client saw; `[]' if it cannot have given that result.
step(#{op := Op, result := Result, complete := Complete}, State) ->
    Known = Complete =/= infinity,
    case Op of
        get when not Known -> [State];
        get when Result =:= State -> [State];
        get -> [];
        {put, V} when not Known; Result =:= ok -> [{ok, V}];
        {put, _} -> [];
        {cas, Expected, V} ->
            Swaps = State =:= {ok, Expected},
            case {Known, Result, Swaps} of
                {false, _, true} -> [{ok, V}];
                {false, _, false} -> [State];
                {true, ok, true} -> [{ok, V}];
                {true, mismatch, false} -> [State];
                _ -> []
            end
    end.
