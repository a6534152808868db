%% @doc Runs a command through the local member and waits for its reply.
%%
%% The reply is sent by the engine once this member applied the entry, so the
%% caller reads its own write when this returns. Waits are bounded by the
%% call's timeout; a member that does not lead (a leader change under way) is
%% retried every 200 ms until then (SPEC 4.8).
%%
%% With `async' set the command is submitted and `ok' returned at once; a
%% correlation asks for a notification, which the store process sends
%% (`khepri_store'). With `protect_against_dups' the command carries a unique
%% id: the state machine applies it at most once, so a resubmission after a
%% lost reply gets the first reply.
-module(khepri_command).

-export([run/3, await/2, to_map/1, dedup/1, correlation/1, deadline/1, remaining/1,
         pause/2, await_other_leader/2, reply_from/4]).

-define(RETRY_MS, 200).
%% How long a reply is kept for deduplication when the call has no timeout.
-define(DEDUP_KEEP_MS, 15 * 60 * 1000).

%% @doc Submits `Command' to store `StoreId' and returns its reply:
%% `{ok, #{Path => Props}}', `{error, {khepri, _, _}}', `{error, timeout}' or
%% `{error, noproc}'; `ok' for an async command.
-spec run(atom(), tuple(), map()) -> ok | {ok, map()} | {error, term()}.
run(StoreId, Command0, Options) ->
    Timeout = khepri_options:timeout(Options),
    Command = case maps:get(protect_against_dups, Options, false) of
                  true -> {once, dedup(Timeout), Command0};
                  false -> Command0
              end,
    case maps:get(async, Options, false) of
        false ->
            Deadline = deadline(Timeout),
            case submit(StoreId, Command, Deadline) of
                {ok, _} = Reply -> reply_from(StoreId, Options, Deadline, Reply);
                Other -> Other
            end;
        Async ->
            submit_async(StoreId, Command, correlation(Async))
    end.

%% @doc `Reply', once the write it answers can be read where `reply_from'
%% says. The local member answers once it applied the write (the default,
%% `local', and a stronger `leader'). For `{member, {S, Node}}' the caller
%% must also read its write on `Node': a fence there waits until it applied
%% everything committed so far. `{error, timeout}' if that fails in time.
-spec reply_from(atom(), map(), infinity | integer(), Reply) -> Reply | {error, timeout}.
reply_from(StoreId, #{reply_from := {member, {_, Node}}}, Deadline, Reply)
  when Node =/= node() ->
    Left = remaining(Deadline),
    CallTimeout = case Left of infinity -> infinity; _ -> Left + 1000 end,
    try erpc:call(Node, khepri, fence, [StoreId, Left], CallTimeout) of
        ok -> Reply;
        _ -> {error, timeout}
    catch
        _:_ -> {error, timeout}
    end;
reply_from(_StoreId, _Options, _Deadline, Reply) ->
    Reply.

%% @doc A dedup marker for a command submitted now: a unique id, the
%% submitter's clock, and when the reply may be forgotten.
-spec dedup(timeout()) -> {non_neg_integer(), non_neg_integer(),
                           non_neg_integer(), non_neg_integer()}.
dedup(Timeout) ->
    Now = os:system_time(millisecond),
    Keep = case Timeout of
               infinity -> ?DEDUP_KEEP_MS;
               Ms -> Ms
           end,
    {rand:uniform(1 bsl 64) - 1, erlang:unique_integer([positive]), Now, Now + Keep}.

%% On a member that does not lead, the engine forwards the write to the
%% leader and answers once this member applied it: the caller reads its own
%% write on its node (SPEC 4.8, `reply_from' local).
submit(StoreId, Command, Deadline) ->
    case khepri_store:engine(StoreId) of
        {ok, Engine} ->
            Ref = make_ref(),
            case khepri_nif:submit(Engine, Ref, Command) of
                ok ->
                    case await(Ref, Deadline) of
                        {error, not_leader} -> retry(StoreId, Engine, Command, Deadline);
                        Reply -> Reply
                    end;
                {error, _} = Error ->
                    Error
            end;
        error ->
            {error, noproc}
    end.

retry(StoreId, Engine, Command, Deadline) ->
    case await_other_leader(Engine, Deadline) of
        ok -> submit(StoreId, Command, Deadline);
        timeout -> {error, timeout}
    end.

%% @doc After a `not_leader' answer: returns as soon as the local member
%% knows a leader other than the one it knew, at the latest after 200 ms
%% (SPEC 4.8: retried every 200 ms while the leader is unreachable);
%% `timeout' when `Deadline' has passed.
-spec await_other_leader(reference(), infinity | integer()) -> ok | timeout.
await_other_leader(Engine, Deadline) ->
    case remaining(Deadline) of
        0 ->
            timeout;
        Left ->
            Ref = make_ref(),
            Failed = khepri_nif:leader(Engine),
            ok = khepri_nif:wait_for_leader(Engine, Ref, Failed, min(Left, ?RETRY_MS)),
            _ = await(Ref, Deadline),
            ok
    end.

%% @doc Waits `Ms' milliseconds if `Deadline' leaves more than that (`ok'),
%% else returns `timeout' at once.
-spec pause(non_neg_integer(), infinity | integer()) -> ok | timeout.
pause(Ms, Deadline) ->
    case remaining(Deadline) of
        Left when Left =:= infinity; Left > Ms -> receive after Ms -> ok end;
        _ -> timeout
    end.

%% @doc Waits for the engine's `{Ref, Reply}' until `Deadline'.
-spec await(reference(), infinity | integer()) -> term().
await(Ref, Deadline) ->
    receive
        {Ref, Reply} -> to_map(Reply)
    after remaining(Deadline) ->
        {error, timeout}
    end.

%% @doc The engine sends changes as a list; the map is built here, in the
%% caller (see `reply.rs').
-spec to_map(term()) -> term().
to_map({ok, Changes}) when is_list(Changes) -> {ok, maps:from_list(Changes)};
to_map(Reply) -> Reply.

%% Async: the store process receives the reply and notifies the caller when
%% there is a correlation (SPEC 4.8).
submit_async(StoreId, Command, Correlation) ->
    case {khepri_store:engine(StoreId), whereis(StoreId)} of
        {{ok, Engine}, Pid} when is_pid(Pid) ->
            Tag = khepri_store:async_tag(self(), Correlation),
            case khepri_nif:submit_to(Engine, Pid, Tag, Command) of
                ok -> ok;
                {error, _} = Error -> Error
            end;
        _ ->
            {error, noproc}
    end.

%% @doc The correlation of an `async' option value; `undefined' for none.
-spec correlation(term()) -> term().
correlation(true) -> undefined;
correlation(Priority) when Priority =:= normal; Priority =:= low -> undefined;
correlation({Correlation, _Priority}) -> Correlation;
correlation(Correlation) -> Correlation.

%% @doc The monotonic time by which a call of `Timeout' must end.
-spec deadline(timeout()) -> infinity | integer().
deadline(infinity) -> infinity;
deadline(Ms) -> erlang:monotonic_time(millisecond) + Ms.

%% @doc Milliseconds left until `Deadline'.
-spec remaining(infinity | integer()) -> timeout().
remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).
