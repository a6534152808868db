%% @doc The lock that serialises start, stop, join and reset of one store id
%% across connected nodes (SPEC 4.9): a `global' lock on the store id, held
%% by the calling process, so that, say, a join on one node and a reset on
%% another do not interleave their membership changes and data deletion.
%%
%% Nested calls (a join stops and restarts its store) run under the lock
%% the caller already holds.
-module(khepri_store_lock).

-export([with/3]).

%% Between two attempts to take the lock.
-define(RETRY_MS, 10).

%% @doc Runs `Fun' holding the lock of `StoreId'; `{error, timeout}' when
%% the lock is not free within `Timeout' ms.
-spec with(atom(), timeout(), fun(() -> Result)) -> Result | {error, timeout}.
with(StoreId, Timeout, Fun) ->
    Held = {?MODULE, StoreId},
    case get(Held) of
        true ->
            Fun();
        undefined ->
            LockId = {{khepri_store, StoreId}, self()},
            Nodes = [node() | nodes()],
            case take(LockId, Nodes, khepri_command:deadline(Timeout)) of
                ok ->
                    put(Held, true),
                    try
                        Fun()
                    after
                        erase(Held),
                        global:del_lock(LockId, Nodes)
                    end;
                timeout ->
                    {error, timeout}
            end
    end.

%% One attempt at a time (`global' would otherwise retry with its own,
%% growing, unbounded sleeps), until `Deadline'.
take(LockId, Nodes, Deadline) ->
    case global:set_lock(LockId, Nodes, 0) of
        true ->
            ok;
        false ->
            case khepri_command:pause(?RETRY_MS, Deadline) of
                ok -> take(LockId, Nodes, Deadline);
                timeout -> timeout
            end
    end.
