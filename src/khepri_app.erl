%% @doc The `khepri' application: a supervisor of store processes.
-module(khepri_app).
-behaviour(application).

-export([start/2, stop/1]).

%% @private
start(_Type, _Args) ->
    khepri_sup:start_link().

%% @private
stop(_State) ->
    ok.
