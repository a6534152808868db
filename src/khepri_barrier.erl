%% @doc Read barriers (SPEC 4.8): `fence' and the query options
%% `favor => consistency' and `condition => {applied, {Index, Term}}'.
%%
%% A barrier asks the engine to wait, on its runtime, until the local member
%% applied what is needed; the caller waits for the answer with the call's
%% timeout, so no scheduler is blocked and no wait is unbounded.
-module(khepri_barrier).

-export([before_read/2, fence/2]).

%% @doc Waits as `Options' ask before a read on `Engine': `ok' or
%% `{error, timeout}'. `condition' wins over `favor'.
-spec before_read(reference(), map()) -> ok | {error, timeout}.
before_read(Engine, #{condition := {applied, {Index, _Term}}} = Options) ->
    Timeout = khepri_options:timeout(Options),
    call(fun(Ref) -> khepri_nif:wait_applied(Engine, Ref, Index, Timeout) end, Timeout);
before_read(Engine, #{favor := consistency} = Options) ->
    Timeout = khepri_options:timeout(Options),
    call(fun(Ref) -> khepri_nif:fence(Engine, Ref, Timeout) end, Timeout);
before_read(_Engine, _Options) ->
    ok.

%% @doc Waits until the local member of `StoreId' applied every write
%% acknowledged before the call: `ok', `{error, timeout}' or
%% `{error, noproc}'.
-spec fence(atom(), timeout()) -> ok | {error, timeout | noproc}.
fence(StoreId, Timeout) ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            call(fun(Ref) -> khepri_nif:fence(Engine, Ref, Timeout) end, Timeout);
        error ->
            {error, noproc}
    end.

call(Start, Timeout) ->
    Ref = make_ref(),
    ok = Start(Ref),
    khepri_command:await(Ref, khepri_command:deadline(Timeout)).
