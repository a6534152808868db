%% @doc Runs a command through the local member and waits for its reply.
%%
%% The reply is sent by the engine once this member applied the entry, so the
%% caller reads its own write when this returns. Waits are bounded by the
%% call's timeout; a member that does not lead (a leader change under way) is
%% retried every 200 ms until then (SPEC 4.8).
-module(khepri_command).

-export([run/3]).

-define(RETRY_MS, 200).

%% @doc Submits `Command' to store `StoreId' and returns its reply:
%% `{ok, #{Path => Props}}', `{error, {khepri, _, _}}', `{error, timeout}' or
%% `{error, noproc}'.
-spec run(atom(), tuple(), map()) -> {ok, map()} | {error, term()}.
run(StoreId, Command, Options) ->
    Timeout = khepri_options:timeout(Options),
    submit(StoreId, Command, deadline(Timeout)).

submit(StoreId, Command, Deadline) ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            Ref = make_ref(),
            case khepri_nif:submit(Engine, Ref, Command) of
                ok -> await(StoreId, Command, Ref, Deadline);
                {error, _} = Error -> Error
            end;
        error ->
            {error, noproc}
    end.

await(StoreId, Command, Ref, Deadline) ->
    receive
        {Ref, {error, not_leader}} ->
            case remaining(Deadline) of
                Left when Left =:= infinity; Left > ?RETRY_MS ->
                    receive after ?RETRY_MS -> ok end,
                    submit(StoreId, Command, Deadline);
                _ ->
                    {error, timeout}
            end;
        {Ref, {ok, Changes}} ->
            %% The engine sends a list; the map is built here, in the caller.
            {ok, maps:from_list(Changes)};
        {Ref, Reply} ->
            Reply
    after remaining(Deadline) ->
        {error, timeout}
    end.

deadline(infinity) -> infinity;
deadline(Ms) -> erlang:monotonic_time(millisecond) + Ms.

remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).
