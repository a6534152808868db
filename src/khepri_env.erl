%% @doc The application environment of SPEC section 0, with validation.
-module(khepri_env).

-include("khepri.hrl").

-export([default_store_id/0, default_data_dir/0, default_timeout/0]).

%% @doc `default_store_id' (default `khepri'); raises
%% `invalid_default_store_id_value' when it is not an atom.
-spec default_store_id() -> atom().
default_store_id() ->
    case application:get_env(khepri, default_store_id, khepri) of
        S when is_atom(S) -> S;
        Bad -> erlang:error(?khepri_exception(invalid_default_store_id_value,
                                              #{default_store_id => Bad}))
    end.

%% @doc `default_ra_system': a data directory or a system name (default
%% `"khepri#<node>"' in the working directory).
-spec default_data_dir() -> file:filename_all() | atom().
default_data_dir() ->
    case application:get_env(khepri, default_ra_system) of
        undefined -> "khepri#" ++ atom_to_list(node());
        {ok, V} when is_atom(V); is_binary(V) -> V;
        {ok, V} when is_list(V) ->
            case io_lib:char_list(V) of
                true -> V;
                false -> bad_data_dir(V)
            end;
        {ok, V} -> bad_data_dir(V)
    end.

bad_data_dir(V) ->
    erlang:error(?khepri_exception(invalid_default_ra_system_value,
                                   #{default_ra_system => V})).

%% @doc `default_timeout' (default `infinity').
-spec default_timeout() -> timeout().
default_timeout() ->
    case application:get_env(khepri, default_timeout, infinity) of
        T when T =:= infinity; is_integer(T) andalso T >= 0 -> T;
        Bad -> erlang:error(?khepri_exception(invalid_default_timeout_value,
                                              #{default_timeout => Bad}))
    end.
