%% @doc Store ids and store lifecycle (SPEC 2.8). Clustering lands with the
%% Erlang-distribution transport; until then every store is a one-member
%% cluster.
-module(khepri_cluster).

-export([start/0, start/1, start/2, start/3, stop/0, stop/1,
         get_default_store_id/0, get_store_ids/0, is_store_running/1,
         get_default_ra_system_or_data_dir/0, node_to_member/2, this_member/1]).

%% @doc Same as `khepri:start/0'.
start() -> khepri:start().
%% @doc Same as `khepri:start/1'.
start(D) -> khepri:start(D).
%% @doc Same as `khepri:start/2'.
start(D, S) -> khepri:start(D, S).
%% @doc Same as `khepri:start/3'.
start(D, S, T) -> khepri:start(D, S, T).
%% @doc Same as `khepri:stop/0'.
stop() -> khepri:stop().
%% @doc Same as `khepri:stop/1'.
stop(S) -> khepri:stop(S).

%% @doc The application's `default_store_id' (default `khepri').
get_default_store_id() -> khepri_env:default_store_id().

%% @doc The stores running on this node.
get_store_ids() -> khepri:get_store_ids().

%% @doc True when `StoreId' runs on this node.
is_store_running(StoreId) when is_atom(StoreId) -> whereis(StoreId) =/= undefined.

%% @doc The default data directory or system name.
get_default_ra_system_or_data_dir() -> khepri_env:default_data_dir().

%% @doc The member id of `StoreId' on `Node'.
node_to_member(StoreId, Node) when is_atom(StoreId), is_atom(Node) -> {StoreId, Node}.

%% @doc The member id of `StoreId' on this node.
this_member(StoreId) when is_atom(StoreId) -> {StoreId, node()}.
