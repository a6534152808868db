%% @doc Runs transactions (SPEC 4.5, 5a).
%%
%% The fun runs in the calling process against a private overlay of the
%% local member's tree (`khepri_nif:tx_begin/1'); `khepri_tx' calls find the
%% overlay in the process dictionary. Reads are recorded as guards, writes as
%% operations. A run that wrote nothing returns without touching the log; a
%% run that wrote is committed as one command, which the state machine
%% applies only if every guard still holds. On a conflict the fun runs again
%% on a fresh overlay, until it commits or the call's timeout passes.
-module(khepri_transaction).

-include("khepri.hrl").
-include("khepri_tx_source.hrl").

-export([run/5, source/0, is_transaction/0, handle_async_ret/1]).

-define(PDICT_KEY, '$khepri_tx').
-define(ABORTED(Reason), {'$__ABORTED_KHEPRI_TX__', Reason}).
%% Backoff after repeated conflicts: at most this many milliseconds.
-define(MAX_BACKOFF_MS, 10).

%% @doc Runs `FunOrPath' applied to `Args' as a transaction of store
%% `StoreId': `{ok, Result}', `{error, AbortReason}', `{error, timeout}',
%% `{error, noproc}', or `ok' when async; exceptions of the fun are
%% re-raised.
-spec run(atom(), fun() | term(), list(), ro | rw | auto, map()) ->
    ok | {ok, term()} | {error, term()}.
run(StoreId, FunOrPath, Args, Mode, Options) ->
    ok = check_args(FunOrPath, Args),
    ok = check_mode(Mode),
    ok = khepri_options:validate(Options),
    case maps:get(async, Options, false) of
        false -> sync(StoreId, FunOrPath, Args, Mode, Options);
        Async -> async(StoreId, FunOrPath, Args, Mode, Options, Async)
    end.

check_args(Fun, Args) when is_function(Fun) ->
    {arity, Arity} = erlang:fun_info(Fun, arity),
    case is_list(Args) andalso length(Args) =:= Arity of
        true ->
            ok;
        false ->
            erlang:error(?khepri_exception(
                            denied_tx_fun_with_invalid_args,
                            #{'fun' => Fun, arity => Arity, args => Args}))
    end;
check_args(_Path, Args) when is_list(Args) ->
    ok;
check_args(Path, Args) ->
    erlang:error(?khepri_exception(invalid_option,
                                   #{option => args, value => {Path, Args}})).

check_mode(Mode) when Mode =:= ro; Mode =:= rw; Mode =:= auto -> ok;
check_mode(Mode) -> erlang:error(?khepri_exception(invalid_option,
                                                   #{option => mode, value => Mode})).

sync(StoreId, FunOrPath, Args, Mode, Options) ->
    Deadline = khepri_command:deadline(khepri_options:timeout(Options)),
    case outcome(StoreId, FunOrPath, Args, Mode, Options, Deadline) of
        {committed, Result} -> khepri_command:reply_from(StoreId, Options, Deadline, {ok, Result});
        {aborted, Reason} -> {error, Reason};
        {error, _} = Error -> Error
    end.

%% `{committed, Result}', `{aborted, Reason}' or `{error, timeout | noproc}';
%% an exception of the fun propagates. `Deadline' bounds the whole call.
outcome(StoreId, FunOrPath, Args, Mode, Options, Deadline) ->
    Timeout = khepri_options:timeout(Options),
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            case khepri_barrier:before_read(Engine, Options) of
                ok ->
                    %% Off by default, unlike SPEC 1.3: a command of ours is
                    %% never resubmitted (a conflict runs the fun again), so a
                    %% kept reply would only cost memory (README).
                    Dups = maps:get(protect_against_dups, Options, false),
                    attempt(Engine, FunOrPath, Args, Mode, {Timeout, Deadline, Dups}, 0);
                {error, _} = Error ->
                    Error
            end;
        error ->
            {error, noproc}
    end.

attempt(Engine, FunOrPath, Args, Mode, Limits, Conflicts) ->
    Tx = khepri_nif:tx_begin(Engine),
    case execute(Tx, Mode, FunOrPath, Args) of
        {returned, Result} ->
            case commit(Engine, Tx, Limits) of
                committed ->
                    {committed, Result};
                retry ->
                    retry(Engine, FunOrPath, Args, Mode, Limits, Conflicts + 1);
                {error, _} = Error ->
                    Error
            end;
        {aborted, _} = Aborted ->
            Aborted
    end.

retry(Engine, FunOrPath, Args, Mode, {_, Deadline, _} = Limits, Conflicts) ->
    case khepri_command:pause(backoff(Conflicts), Deadline) of
        ok -> attempt(Engine, FunOrPath, Args, Mode, Limits, Conflicts);
        timeout -> {error, timeout}
    end.

%% Jittered, growing pauses once conflicts repeat, so that contending
%% transactions spread out instead of colliding again at once.
backoff(Conflicts) when Conflicts < 2 -> 0;
backoff(Conflicts) -> rand:uniform(min(Conflicts, ?MAX_BACKOFF_MS)).

execute(Tx, Mode, FunOrPath, Args) ->
    Saved = erlang:put(?PDICT_KEY, ?TX_SOURCE(Tx, Mode)),
    try
        {returned, call(FunOrPath, Args)}
    catch
        throw:?ABORTED(Reason) -> {aborted, Reason}
    after
        restore(Saved)
    end.

%% A nested `khepri:transaction' is independent: the outer one resumes after.
restore(undefined) -> erlang:erase(?PDICT_KEY);
restore(Saved) -> erlang:put(?PDICT_KEY, Saved).

call(Fun, Args) when is_function(Fun) ->
    erlang:apply(Fun, Args);
call(Path, Args) ->
    erlang:apply(sproc(Path, length(Args)), Args).

%% The stored procedure at `Path', read inside the transaction (so guarded).
sproc(Path, Arity) ->
    Found = khepri_ops:adv_get(source(), Path, #{props_to_return => [payload]}),
    case Found of
        {ok, Props} when map_size(Props) =:= 1 ->
            case maps:values(Props) of
                [#{sproc := Fun}] when is_function(Fun, Arity) ->
                    Fun;
                [#{sproc := _}] ->
                    throw(?ABORTED(?khepri_error(sproc_invalid_as_tx_fun, #{path => Path})));
                [_] ->
                    throw(?ABORTED(?khepri_error(no_sproc_at_given_path, #{path => Path})))
            end;
        {ok, _} ->
            throw(?ABORTED(?khepri_error(no_sproc_at_given_path, #{path => Path})));
        {error, Reason} ->
            throw(?ABORTED(Reason))
    end.

commit(Engine, Tx, {Timeout, Deadline, Dups}) ->
    case khepri_command:remaining(Deadline) of
        0 ->
            %% The fun outlived the call: nothing is committed.
            {error, timeout};
        _ ->
            Dedup = case Dups of
                        true -> khepri_command:dedup(Timeout);
                        false -> none
                    end,
            Ref = make_ref(),
            case khepri_nif:tx_commit(Tx, Ref, Dedup) of
                read_only ->
                    committed;
                ok ->
                    case khepri_command:await(Ref, Deadline) of
                        {ok, _} -> committed;
                        {error, tx_conflict} -> retry;
                        {error, not_leader} -> not_leader(Engine, Deadline);
                        {error, _} = Error -> Error
                    end;
                {error, _} = Error ->
                    Error
            end
    end.

%% No leader to commit to (an election under way): wait for one, then run
%% the fun again on a fresh overlay.
not_leader(Engine, Deadline) ->
    case khepri_command:await_other_leader(Engine, Deadline) of
        ok -> retry;
        timeout -> {error, timeout}
    end.

%% Async (SPEC 4.5): the transaction runs in a process of its own; with a
%% correlation, its outcome is sent to the caller as an `ra_event'.
async(StoreId, FunOrPath, Args, Mode, Options, Async) ->
    case whereis(StoreId) of
        undefined ->
            {error, noproc};
        _ ->
            Caller = self(),
            Correlation = khepri_command:correlation(Async),
            SyncOptions = maps:remove(async, Options),
            _ = spawn(fun() ->
                              Ret = async_outcome(StoreId, FunOrPath, Args, Mode, SyncOptions),
                              notify(Caller, StoreId, Correlation, Ret)
                      end),
            ok
    end.

async_outcome(StoreId, FunOrPath, Args, Mode, Options) ->
    Deadline = khepri_command:deadline(khepri_options:timeout(Options)),
    try outcome(StoreId, FunOrPath, Args, Mode, Options, Deadline) of
        {committed, Result} -> Result;
        {aborted, Reason} -> {exception, throw, ?ABORTED(Reason), []};
        {error, _} = Error -> Error
    catch
        Class:Reason:Stack -> {exception, Class, Reason, Stack}
    end.

notify(_Caller, _StoreId, undefined, _Ret) ->
    ok;
notify(Caller, StoreId, Correlation, Ret) ->
    Caller ! {ra_event, {StoreId, node()}, {applied, [{Correlation, Ret}]}},
    ok.

%% @doc What the `ra_event' notification of an async write or transaction
%% means to its caller (SPEC 4.8): `[{Correlation, Ret}]'.
-spec handle_async_ret(term()) -> [{term(), term()}].
handle_async_ret({ra_event, _From, {applied, Replies}}) ->
    [{Correlation, async_ret(Ret)} || {Correlation, Ret} <- Replies];
handle_async_ret({ra_event, _From, {rejected, {not_leader, Leader, Correlation}}}) ->
    [{Correlation, {error, {not_leader, Leader}}}].

async_ret({exception, throw, ?ABORTED(Reason), _Stack}) -> {error, Reason};
async_ret({exception, Class, Reason, Stack}) -> erlang:raise(Class, Reason, Stack);
async_ret(Ret) -> Ret.

%% @doc The running transaction's source for `khepri_ops', or the
%% `invalid_use_of_khepri_tx_outside_transaction' exception.
-spec source() -> tuple().
source() ->
    case erlang:get(?PDICT_KEY) of
        undefined ->
            erlang:error(?khepri_exception(
                            invalid_use_of_khepri_tx_outside_transaction, #{}));
        Source ->
            Source
    end.

%% @doc Whether the calling process is running a transaction fun.
-spec is_transaction() -> boolean().
is_transaction() ->
    erlang:get(?PDICT_KEY) =/= undefined.
