%% @doc Supervises one `khepri_store' process per running store.
%%
%% Stores are `temporary' children: a crashed store is not restarted behind
%% the user's back (its data directory may need attention); `khepri:start'
%% starts it again.
-module(khepri_sup).
-behaviour(supervisor).

-export([start_link/0, start_store/3, stop_store/1]).
-export([init/1]).

%% @private
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

%% @doc Starts the store process of `StoreId'.
start_store(StoreId, Dir, Config) ->
    Spec = #{id => StoreId,
             start => {khepri_store, start_link, [StoreId, Dir, Config]},
             restart => temporary,
             shutdown => 60000,
             type => worker},
    supervisor:start_child(?MODULE, Spec).

%% @doc Stops the store process of `StoreId', if any.
stop_store(StoreId) ->
    case supervisor:terminate_child(?MODULE, StoreId) of
        ok -> _ = supervisor:delete_child(?MODULE, StoreId), ok;
        {error, not_found} -> ok
    end.

%% @private
init([]) ->
    {ok, {#{strategy => one_for_one, intensity => 10, period => 10}, []}}.
