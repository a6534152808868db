defmodule Khepri.Cluster do
  @moduledoc """
  Store membership, the Elixir face of `:khepri_cluster`.

  Every function has the same name, arguments and return values as the
  `:khepri_cluster` function of the same arity. A *member* of a store is the
  tuple `{store_id, node}`.
  """

  @typedoc "The id of one member of a store: `{store_id, node}`."
  @type member :: {Khepri.store_id(), node()}

  @doc "Same as `Khepri.start/0`."
  @spec start() :: {:ok, Khepri.store_id()} | Khepri.error()
  defdelegate start(), to: :khepri_cluster

  @doc "Same as `Khepri.start/1`."
  @spec start(Khepri.data_dir_or_system()) :: {:ok, Khepri.store_id()} | Khepri.error()
  defdelegate start(data_dir_or_system), to: :khepri_cluster

  @doc "Same as `Khepri.start/2`."
  @spec start(Khepri.data_dir_or_system(), Khepri.store_id_or_config()) ::
          {:ok, Khepri.store_id()} | Khepri.error()
  defdelegate start(data_dir_or_system, store_id_or_config), to: :khepri_cluster

  @doc "Same as `Khepri.start/3`."
  @spec start(Khepri.data_dir_or_system(), Khepri.store_id_or_config(), timeout()) ::
          {:ok, Khepri.store_id()} | Khepri.error()
  defdelegate start(data_dir_or_system, store_id_or_config, timeout), to: :khepri_cluster

  @doc "Same as `Khepri.stop/0`."
  @spec stop() :: :ok | Khepri.error()
  defdelegate stop(), to: :khepri_cluster

  @doc "Same as `Khepri.stop/1`."
  @spec stop(Khepri.store_id()) :: :ok | Khepri.error()
  defdelegate stop(store_id), to: :khepri_cluster

  @doc """
  Returns the default store id: the `:default_store_id` application
  environment value, `:khepri` when unset.

  Raises `ErlangError` with `original: {:khepri_ex,
  :invalid_default_store_id_value, %{default_store_id: value}}` when the value
  is not an atom.

  ## Example

      :khepri = Khepri.Cluster.get_default_store_id()
  """
  @spec get_default_store_id() :: Khepri.store_id()
  defdelegate get_default_store_id(), to: :khepri_cluster

  @doc "Returns the ids of the stores running on this node (as `Khepri.get_store_ids/0`)."
  @spec get_store_ids() :: [Khepri.store_id()]
  defdelegate get_store_ids(), to: :khepri_cluster

  @doc """
  Returns `true` when the store runs on this node.

  ## Example

      true = Khepri.Cluster.is_store_running(:my_store)
  """
  @spec is_store_running(Khepri.store_id()) :: boolean()
  defdelegate is_store_running(store_id), to: :khepri_cluster

  @doc """
  Returns the default data directory or system name: the `:default_ra_system`
  application environment value, else `'khepri#<node>'` (relative to the
  current directory).
  """
  @spec get_default_ra_system_or_data_dir() :: Khepri.data_dir_or_system()
  defdelegate get_default_ra_system_or_data_dir(), to: :khepri_cluster

  @doc """
  Returns the member id of `store_id` on `node`: `{store_id, node}`.

  ## Example

      {:my_store, :"rabbit@host"} = Khepri.Cluster.node_to_member(:my_store, :"rabbit@host")
  """
  @spec node_to_member(Khepri.store_id(), node()) :: member()
  defdelegate node_to_member(store_id, node), to: :khepri_cluster

  @doc """
  Returns the member id of `store_id` on this node: `{store_id, node()}`.
  """
  @spec this_member(Khepri.store_id()) :: member()
  defdelegate this_member(store_id), to: :khepri_cluster
end
