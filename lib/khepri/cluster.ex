defmodule Khepri.Cluster do
  @moduledoc """
  Store membership, the Elixir face of `:khepri_cluster`.

  Every function has the same name, arguments and return values as the
  `:khepri_cluster` function of the same arity. A *member* of a store is the
  tuple `{store_id, node}`.

  Members talk over Erlang distribution: a cluster is formed by starting the
  store on each node, then calling `join/3` on every node but one, naming a
  node already in the cluster. Joining and `reset/2` delete the local
  member's data.

  ## Example

      # On rabbit@host2, with :my_store started on both nodes:
      :ok = Khepri.Cluster.join(:my_store, :"rabbit@host1")
      {:ok, [:"rabbit@host1", :"rabbit@host2"]} = Khepri.Cluster.nodes(:my_store)
      :ok = Khepri.Cluster.wait_for_leader(:my_store, 5000)
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

  # -------------------------------------------------------------------
  # Join and reset.
  # -------------------------------------------------------------------

  @doc """
  Makes the local member of the default store join the cluster of
  `remote_node`, or, given `{store_id, remote_node}`, the local member of
  `store_id`. Same as `join/3` with the default timeout.

  ## Example

      :ok = Khepri.Cluster.join(:"rabbit@host1")
      :ok = Khepri.Cluster.join({:my_store, :"rabbit@host1"})
  """
  @spec join(node() | member()) :: :ok | Khepri.error()
  defdelegate join(remote_node_or_member), to: :khepri_cluster

  @doc """
  `join(remote_node, timeout)` or `join({store_id, remote_node}, timeout)`
  (a timeout is an integer or `:infinity`), else `join(store_id,
  remote_node)`. Same as `join/3`.

  ## Example

      :ok = Khepri.Cluster.join(:"rabbit@host1", 30_000)
      :ok = Khepri.Cluster.join(:my_store, :"rabbit@host1")
  """
  @spec join(node() | member(), timeout()) :: :ok | Khepri.error()
  @spec join(Khepri.store_id(), node()) :: :ok | Khepri.error()
  defdelegate join(remote_node_or_store_id, timeout_or_remote_node), to: :khepri_cluster

  @doc """
  Makes the local member of `store_id` a member of the cluster `remote_node`
  (or `{store_id, remote_node}`) belongs to.

  **All the local data of `store_id` are deleted first**: the store then holds
  the cluster's data. The local store must be running. Returns `:ok`, also
  when this member is already in that cluster (or `remote_node` is this
  node), or:

    * `{:error, {:khepri, :failed_to_join_remote_khepri_node, %{store_id:
      store_id, node: remote_node}}}` when `remote_node` cannot be reached or
      does not run `store_id`; the local store keeps running, untouched;
    * `{:error, :timeout}` when the membership change did not complete in
      time; the local store then runs again as a fresh one-member cluster;
    * `{:error, :noproc}` when `store_id` is not running on this node.

  ## Example

      :ok = Khepri.Cluster.join(:my_store, :"rabbit@host1", 30_000)
      {:ok, [{:my_store, :"rabbit@host1"}, {:my_store, :"rabbit@host2"}]} =
        Khepri.Cluster.members(:my_store)
  """
  @spec join(Khepri.store_id(), node() | member(), timeout()) :: :ok | Khepri.error()
  defdelegate join(store_id, remote_node_or_member, timeout), to: :khepri_cluster

  @doc """
  Resets the local member of the default store. Same as `reset/2`.

  ## Example

      :ok = Khepri.Cluster.reset()
  """
  @spec reset() :: :ok | Khepri.error()
  defdelegate reset(), to: :khepri_cluster

  @doc """
  `reset(store_id)` or `reset(timeout)` (default store; an integer or
  `:infinity`). Same as `reset/2`.

  ## Example

      :ok = Khepri.Cluster.reset(:my_store)
      :ok = Khepri.Cluster.reset(30_000)
  """
  @spec reset(Khepri.store_id() | timeout()) :: :ok | Khepri.error()
  defdelegate reset(store_id_or_timeout), to: :khepri_cluster

  @doc """
  Makes the local member of `store_id` leave its cluster, **deletes its
  local data** and stops it; `start/3` starts it again, empty.

  Leaving a cluster of several members needs a quorum. Returns `:ok`, or:

    * `{:error, {:khepri, :not_a_khepri_store, %{store_id: store_id}}}` when
      `store_id` is not running on this node;
    * `{:error, :timeout}` when the cluster could not remove this member in
      time (the local member then keeps running with its data).

  ## Example

      :ok = Khepri.Cluster.reset(:my_store, 30_000)
      false = Khepri.Cluster.is_store_running(:my_store)
  """
  @spec reset(Khepri.store_id(), timeout()) :: :ok | Khepri.error()
  defdelegate reset(store_id, timeout), to: :khepri_cluster

  # -------------------------------------------------------------------
  # Members and leader.
  # -------------------------------------------------------------------

  @doc """
  Returns the members of the default store. Same as `members/2`.

  ## Example

      {:ok, [{:khepri, :"rabbit@host1"}]} = Khepri.Cluster.members()
  """
  @spec members() :: {:ok, [member()]} | Khepri.error()
  defdelegate members(), to: :khepri_cluster

  @doc """
  `members(store_id)` or `members(options)` (default store). Same as
  `members/2`.

  ## Example

      {:ok, [{:my_store, :"rabbit@host1"}]} = Khepri.Cluster.members(:my_store)
      {:ok, [{:khepri, :"rabbit@host1"}]} = Khepri.Cluster.members(%{favor: :low_latency})
  """
  @spec members(Khepri.store_id() | Khepri.options()) :: {:ok, [member()]} | Khepri.error()
  defdelegate members(store_id_or_options), to: :khepri_cluster

  @doc """
  Returns `{:ok, members}`: the members of `store_id`'s cluster (voters and
  non-voters), sorted, each a `{store_id, node}` tuple.

  With `favor: :consistency` (the default), the list is the leader's
  committed view, and the call returns `{:error, :timeout}` when no leader
  answers within `:timeout`; with `favor: :low_latency`, it is the local
  member's view. Returns `{:error, :noproc}` when `store_id` is not running on
  this node.

  ## Example

      {:ok, [{:my_store, :"rabbit@host1"}, {:my_store, :"rabbit@host2"}]} =
        Khepri.Cluster.members(:my_store, %{favor: :low_latency})
  """
  @spec members(Khepri.store_id(), Khepri.options()) :: {:ok, [member()]} | Khepri.error()
  defdelegate members(store_id, options), to: :khepri_cluster

  @doc """
  Returns the nodes of the default store's members. Same as `nodes/2`.

  ## Example

      {:ok, [:"rabbit@host1"]} = Khepri.Cluster.nodes()
  """
  @spec nodes() :: {:ok, [node()]} | Khepri.error()
  defdelegate nodes(), to: :khepri_cluster

  @doc """
  `nodes(store_id)` or `nodes(options)` (default store). Same as `nodes/2`.

  ## Example

      {:ok, [:"rabbit@host1"]} = Khepri.Cluster.nodes(:my_store)
      {:ok, [:"rabbit@host1"]} = Khepri.Cluster.nodes(%{favor: :low_latency})
  """
  @spec nodes(Khepri.store_id() | Khepri.options()) :: {:ok, [node()]} | Khepri.error()
  defdelegate nodes(store_id_or_options), to: :khepri_cluster

  @doc """
  Returns `{:ok, nodes}`: the nodes of `store_id`'s members, sorted. Same
  options and errors as `members/2`.

  ## Example

      {:ok, [:"rabbit@host1", :"rabbit@host2"]} = Khepri.Cluster.nodes(:my_store, %{})
  """
  @spec nodes(Khepri.store_id(), Khepri.options()) :: {:ok, [node()]} | Khepri.error()
  defdelegate nodes(store_id, options), to: :khepri_cluster

  @doc """
  Waits until the local member of the default store knows a leader. Same as
  `wait_for_leader/2`.

  ## Example

      :ok = Khepri.Cluster.wait_for_leader()
  """
  @spec wait_for_leader() :: :ok | Khepri.error()
  defdelegate wait_for_leader(), to: :khepri_cluster

  @doc """
  Waits, with the default timeout, until the local member of `store_id` (or
  the member `{store_id, node}`) knows a leader. Same as `wait_for_leader/2`.

  ## Example

      :ok = Khepri.Cluster.wait_for_leader(:my_store)
  """
  @spec wait_for_leader(Khepri.store_id() | member()) :: :ok | Khepri.error()
  defdelegate wait_for_leader(store_id_or_member), to: :khepri_cluster

  @doc """
  Returns `:ok` once the local member of `store_id` (or the member
  `{store_id, node}`) knows a leader, itself or another.

  A store that is not running yet is looked for again every 200 ms. Returns
  `{:error, :timeout}` when there is no leader (or no such member) after
  `timeout` milliseconds.

  ## Example

      :ok = Khepri.Cluster.wait_for_leader(:my_store, 5000)
      :ok = Khepri.Cluster.wait_for_leader({:my_store, :"rabbit@host2"}, 5000)
  """
  @spec wait_for_leader(Khepri.store_id() | member(), timeout()) :: :ok | Khepri.error()
  defdelegate wait_for_leader(store_id_or_member, timeout), to: :khepri_cluster

  @doc """
  Waits, with the default timeout, until `store_id`'s cluster runs machine
  version `version`. Same as `wait_for_effective_machine_version/3`.

  ## Example

      :ok = Khepri.Cluster.wait_for_effective_machine_version(:my_store, :latest)
  """
  @spec wait_for_effective_machine_version(Khepri.store_id(), non_neg_integer() | :latest) ::
          :ok | Khepri.error()
  defdelegate wait_for_effective_machine_version(store_id, version), to: :khepri_cluster

  @doc """
  Returns `:ok` once `store_id`'s cluster runs state machine version
  `version` (an integer, or `:latest`) or a later one.

  Every member of this engine runs version 4: the call waits for a leader
  (see `wait_for_leader/2`), then returns `:ok` for `:latest` and versions up
  to 4, `{:error, :timeout}` otherwise.

  ## Example

      :ok = Khepri.Cluster.wait_for_effective_machine_version(:my_store, 4, 5000)
  """
  @spec wait_for_effective_machine_version(
          Khepri.store_id(),
          non_neg_integer() | :latest,
          timeout()
        ) :: :ok | Khepri.error()
  defdelegate wait_for_effective_machine_version(store_id, version, timeout),
    to: :khepri_cluster

  @doc """
  Waits, with the default timeout, until `store_id`'s cluster supports
  `behaviour`. Same as `wait_for_effective_behaviour/3`.

  ## Example

      :ok = Khepri.Cluster.wait_for_effective_behaviour(:my_store, :khepri)
  """
  @spec wait_for_effective_behaviour(Khepri.store_id(), atom()) :: :ok | Khepri.error()
  defdelegate wait_for_effective_behaviour(store_id, behaviour), to: :khepri_cluster

  @doc """
  Returns `:ok` once `store_id`'s cluster supports the API behaviour
  `behaviour`: every member of this engine supports all the behaviours it
  knows, so the call waits for a leader (see `wait_for_leader/2`).

  Returns `{:error, {:khepri, :unknown_api_hehaviour, %{behaviour:
  behaviour}}}` (sic) at once for a behaviour it does not know, and
  `{:error, :timeout}` when no leader is known in time.

  ## Example

      :ok = Khepri.Cluster.wait_for_effective_behaviour(:my_store, :khepri, 5000)

      {:error, {:khepri, :unknown_api_hehaviour, %{behaviour: :teleport}}} =
        Khepri.Cluster.wait_for_effective_behaviour(:my_store, :teleport, 5000)
  """
  @spec wait_for_effective_behaviour(Khepri.store_id(), atom(), timeout()) ::
          :ok | Khepri.error()
  defdelegate wait_for_effective_behaviour(store_id, behaviour, timeout), to: :khepri_cluster

  # -------------------------------------------------------------------
  # Store ids and member ids.
  # -------------------------------------------------------------------

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
