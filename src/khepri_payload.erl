%% @doc Payload constructors (SPEC 2.11) and their encoding for the engine.
-module(khepri_payload).

-include("khepri.hrl").

-export([none/0, data/1, sproc/1, wrap/1, prepare/1, encode/2]).

-define(NO_PAYLOAD, '$__NO_PAYLOAD__').

%% @doc The absence of payload.
none() -> ?NO_PAYLOAD.

%% @doc An explicit data payload.
data(Term) -> {p_data, Term}.

%% @doc An explicit stored-procedure payload.
sproc(Fun) when is_function(Fun) -> {p_sproc, Fun, false}.

%% @doc A payload as is; a fun becomes a sproc, anything else data.
wrap(?NO_PAYLOAD = P) -> P;
wrap({p_data, _} = P) -> P;
wrap({p_sproc, _, _} = P) -> P;
wrap(Fun) when is_function(Fun) -> sproc(Fun);
wrap(Term) -> data(Term).

%% @doc Validates a wrapped payload; a sproc is marked `rw' once stored.
%% Raises `invalid_payload' (with `path => undefined') for a malformed wrapper.
prepare(Payload) ->
    prepare(undefined, Payload).

prepare(_Path, ?NO_PAYLOAD = P) -> P;
prepare(_Path, {p_data, _} = P) -> P;
prepare(_Path, {p_sproc, Fun, _}) when is_function(Fun) -> {p_sproc, Fun, rw};
prepare(Path, Bad) ->
    erlang:error(?khepri_exception(invalid_payload, #{path => Path, payload => Bad})).

%% @doc The engine's form of `Data' given for `Path': `none',
%% `{data, Etf}' or `{sproc, Etf}'. Terms are encoded here, in Erlang, because
%% `term_to_binary' yields on large terms where a NIF would not.
encode(Path, Data) ->
    case prepare(Path, wrap(Data)) of
        ?NO_PAYLOAD -> none;
        {p_data, T} -> {data, term_to_binary(T)};
        {p_sproc, Fun, rw} -> {sproc, term_to_binary(Fun)}
    end.
