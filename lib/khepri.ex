defmodule Khepri do
  @moduledoc """
  A tree-like, Raft-replicated store: the Elixir face of `:khepri`.

  Every function here has the same name, arguments and return values as the
  `:khepri` function of the same arity, so Erlang documentation and examples
  apply unchanged.

  ## Stores

  A store is identified by an atom, its *store id*. `start/0..3` starts one on
  this node (its files live in `<data_dir>/<store_id>`); the forms without a
  store id use the default store, the `:default_store_id` application
  environment value (default `:khepri`). A function whose first argument is an
  atom takes it as the store id: paths are never atoms.

  ## Paths

  A node of the tree is addressed by a *path*, a list of node names. Names are
  atoms or binaries (Elixir strings):

      [:stock, :wood, "oak"]

  The same path may be written as a Unix-like string, where `:name` is an atom
  and anything else a binary. In Elixir these strings are binaries, which the
  API accepts everywhere a path is expected:

      "/:stock/:wood/oak"

  The `~p` sigil of `Khepri.Path` parses such a string at the call site
  (`~P` does the same without interpolation):

      import Khepri.Path, only: [sigil_p: 2]
      ~p"/:stock/:wood/oak"
      #=> [:stock, :wood, "oak"]

  The root node is the empty path `[]` (`"/"`). Patterns (wildcards such as
  `~p"/:stock/*"`, and the conditions of `Khepri.Condition`) are refused by
  the single-node functions of this module: they raise
  `possibly_matching_many_nodes_denied`. See `Khepri.Path` for the syntax.

  ## Return values

  Return values are the Erlang terms, unchanged:

    * `:ok`, `{:ok, value}` or a boolean on success;
    * `{:error, {:khepri, name, props}}` for the documented errors, such as
      `{:error, {:khepri, :node_not_found, %{node_name: :oak, node_path:
      [:stock, :wood, :oak], node_is_target: true}}}`;
    * `{:error, :noproc}` when the store is not running on this node, and
      `{:error, :timeout}` when a write could not complete in time.

  Misuse of the API (a malformed path, a pattern where one node is expected,
  an unknown option) raises an `ErlangError` whose `original` is
  `{:khepri_ex, name, props}`, e.g. `{:khepri_ex, :invalid_path, %{path:
  ...}}`. `Khepri.Error` is the exception of the bang variants.

  ## Options

  The last argument of the longest form of each function is a map of options
  (`:timeout`, `:async`, `:favor`, ...), validated: an unknown key or a bad
  value raises `{:khepri_ex, :invalid_option, %{option: key, value: value}}`.
  """

  @typedoc "The name of a store, registered on each node where it runs."
  @type store_id :: atom()

  @typedoc "A native path or pattern, or a Unix-like path string (binary or charlist)."
  @type path :: :khepri_path.pattern()

  @typedoc "Any term stored in a node (a function is stored as a stored procedure)."
  @type data :: term()

  @typedoc "A data directory (string or charlist) or the name of a configured system."
  @type data_dir_or_system :: Path.t() | charlist() | atom()

  @typedoc "A store id or a configuration map (`:cluster_name`, `:machine_config`)."
  @type store_id_or_config :: store_id() | map()

  @typedoc "The options map of queries and writes."
  @type options :: map()

  @typedoc "`{:error, reason}` with the reasons documented in the module doc."
  @type error :: {:error, term()}

  # -------------------------------------------------------------------
  # Service.
  # -------------------------------------------------------------------

  @doc """
  Starts the default store in the default data directory.

  The default data directory is the `:default_ra_system` application
  environment value, else `"khepri#<node>"` in the current directory. Same as
  `start/3` otherwise.

  ## Example

      {:ok, :khepri} = Khepri.start()
  """
  @spec start() :: {:ok, store_id()} | error()
  defdelegate start(), to: :khepri

  @doc """
  Starts the default store in `data_dir_or_system`. Same as `start/3`.

  ## Example

      {:ok, :khepri} = Khepri.start("/var/lib/my_app")
  """
  @spec start(data_dir_or_system()) :: {:ok, store_id()} | error()
  defdelegate start(data_dir_or_system), to: :khepri

  @doc """
  Starts the store `store_id_or_config` in `data_dir_or_system`, with the
  default timeout. Same as `start/3`.

  ## Example

      {:ok, :my_store} = Khepri.start("/var/lib/my_app", :my_store)
  """
  @spec start(data_dir_or_system(), store_id_or_config()) :: {:ok, store_id()} | error()
  defdelegate start(data_dir_or_system, store_id_or_config), to: :khepri

  @doc """
  Starts a store on this node and returns `{:ok, store_id}`.

  The store's files live in `<data_dir>/<store_id>`: a new store starts empty,
  an existing one recovers its data. `data_dir_or_system` is a directory
  (created if missing) or the name of a system configured in the `:ra_systems`
  application environment. `store_id_or_config` is a store id or a map with
  `:cluster_name` (the store id) and `:machine_config`. Starting a store that
  is already running returns `{:ok, store_id}` too.

  Returns `{:error, reason}` when the store cannot start, for instance
  `{:error, {:khepri, :unknown_ra_system, %{ra_system: name}}}`.

  ## Example

      {:ok, :my_store} = Khepri.start("/var/lib/my_app", :my_store, 30_000)
  """
  @spec start(data_dir_or_system(), store_id_or_config(), timeout()) ::
          {:ok, store_id()} | error()
  defdelegate start(data_dir_or_system, store_id_or_config, timeout), to: :khepri

  @doc """
  Stops the default store on this node. Same as `stop/1`.

  ## Example

      :ok = Khepri.stop()
  """
  @spec stop() :: :ok | error()
  defdelegate stop(), to: :khepri

  @doc """
  Stops the local member of `store_id`; its data are kept on disk and
  `start/3` on the same directory finds them again.

  Returns `:ok`, also when the store is not running.

  ## Example

      :ok = Khepri.stop(:my_store)
  """
  @spec stop(store_id()) :: :ok | error()
  defdelegate stop(store_id), to: :khepri

  @doc """
  Returns the ids of the stores running on this node.

  ## Example

      [:my_store] = Khepri.get_store_ids()
  """
  @spec get_store_ids() :: [store_id()]
  defdelegate get_store_ids(), to: :khepri

  # -------------------------------------------------------------------
  # Queries.
  # -------------------------------------------------------------------

  @doc """
  Reads the payload of one node of the default store. Same as `get/3`.

  ## Example

      {:ok, 150} = Khepri.get(~p"/:stock/:wood/oak")
  """
  @spec get(path()) :: {:ok, data()} | error()
  defdelegate get(path), to: :khepri

  @doc """
  `get(store_id, path)` or `get(path, options)` (default store). Same as
  `get/3`.

  ## Example

      {:ok, 150} = Khepri.get(:my_store, ~p"/:stock/:wood/oak")
      {:ok, 150} = Khepri.get(~p"/:stock/:wood/oak", %{favor: :low_latency})
  """
  @spec get(store_id(), path()) :: {:ok, data()} | error()
  @spec get(path(), options()) :: {:ok, data()} | error()
  defdelegate get(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Reads the payload of the node at `path`.

  Returns `{:ok, data}`, `{:ok, :undefined}` when the node exists without a
  payload (an ancestor created implicitly, for instance), `{:ok, fun}` for a
  stored procedure, or:

    * `{:error, {:khepri, :node_not_found, %{node_name: name, node_path: path,
      node_is_target: boolean}}}` when the node does not exist
      (`node_is_target` is `false` when an ancestor is missing already, and
      `node_path` then names that ancestor);
    * `{:error, :noproc}` when the store is not running on this node.

  Raises `possibly_matching_many_nodes_denied` for a pattern and
  `invalid_path` for a malformed path.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      {:ok, 150} = Khepri.get(:my_store, ~p"/:stock/:wood/oak", %{})
      {:ok, :undefined} = Khepri.get(:my_store, ~p"/:stock/:wood", %{})
  """
  @spec get(store_id(), path(), options()) :: {:ok, data()} | error()
  defdelegate get(store_id, path, options), to: :khepri

  @doc """
  Tells whether a node exists in the default store. Same as `exists/3`.

  ## Example

      true = Khepri.exists(~p"/:stock/:wood/oak")
  """
  @spec exists(path()) :: boolean() | error()
  defdelegate exists(path), to: :khepri

  @doc """
  `exists(store_id, path)` or `exists(path, options)` (default store). Same
  as `exists/3`.

  ## Example

      false = Khepri.exists(:my_store, ~p"/:stock/:wood/birch")
  """
  @spec exists(store_id(), path()) :: boolean() | error()
  @spec exists(path(), options()) :: boolean() | error()
  defdelegate exists(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Tells whether the node at `path` exists.

  Returns `true` or `false` (a missing node is not an error), or
  `{:error, :noproc}` when the store is not running on this node. Raises like
  `get/3` for patterns and malformed paths.

  ## Example

      true = Khepri.exists(:my_store, ~p"/:stock/:wood/oak", %{})
  """
  @spec exists(store_id(), path(), options()) :: boolean() | error()
  defdelegate exists(store_id, path, options), to: :khepri

  # -------------------------------------------------------------------
  # Writes.
  # -------------------------------------------------------------------

  @doc """
  Sets the payload of one node of the default store. Same as `put/4`.

  ## Example

      :ok = Khepri.put(~p"/:stock/:wood/oak", 150)
  """
  @spec put(path(), data()) :: :ok | error()
  defdelegate put(path, data), to: :khepri

  @doc """
  `put(store_id, path, data)` or `put(path, data, options)` (default store).
  Same as `put/4`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put("/:stock/:wood/oak", 150, %{timeout: 5_000})
  """
  @spec put(store_id(), path(), data()) :: :ok | error()
  @spec put(path(), data(), options()) :: :ok | error()
  defdelegate put(store_id_or_path, path_or_data, data_or_options), to: :khepri

  @doc """
  Creates or updates the node at `path` with `data`, creating the missing
  ancestors (without payload; they go away again once they have neither
  payload nor children).

  Returns `:ok` once the local member applied the write, or
  `{:error, :noproc}` when the store is not running on this node (or
  `{:error, :timeout}`, or a `{:khepri, name, props}` error). Raises
  `possibly_matching_many_nodes_denied` for a pattern, `invalid_path` for a
  malformed path, and `invalid_option` for a bad option.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150, %{})
      :ok = Khepri.put(:my_store, [:stock, :wood, "birch"], 20, %{})
  """
  @spec put(store_id(), path(), data(), options()) :: :ok | error()
  defdelegate put(store_id, path, data, options), to: :khepri

  @doc """
  Deletes one node of the default store and its subtree. Same as `delete/3`.

  ## Example

      :ok = Khepri.delete(~p"/:stock/:wood/oak")
  """
  @spec delete(path()) :: :ok | error()
  defdelegate delete(path), to: :khepri

  @doc """
  `delete(store_id, path)` or `delete(path, options)` (default store). Same
  as `delete/3`.

  ## Example

      :ok = Khepri.delete(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec delete(store_id(), path()) :: :ok | error()
  @spec delete(path(), options()) :: :ok | error()
  defdelegate delete(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Deletes the node at `path` and its whole subtree.

  Returns `:ok`, also when the node does not exist, or `{:error, :noproc}`
  when the store is not running on this node. Raises like `put/4` for
  patterns and malformed paths.

  ## Example

      :ok = Khepri.delete(:my_store, ~p"/:stock/:wood", %{})
      false = Khepri.exists(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec delete(store_id(), path(), options()) :: :ok | error()
  defdelegate delete(store_id, path, options), to: :khepri

  # -------------------------------------------------------------------
  # Info.
  # -------------------------------------------------------------------

  @doc """
  Prints the default store to stdout. Same as `info/2`.

  ## Example

      :ok = Khepri.info()
  """
  @spec info() :: :ok | error()
  defdelegate info(), to: :khepri

  @doc """
  Prints a store to stdout. Same as `info/2`.

  ## Example

      :ok = Khepri.info(:my_store)
  """
  @spec info(store_id()) :: :ok | error()
  defdelegate info(store_id), to: :khepri

  @doc """
  Prints the local member of a store and its tree to stdout (free text, for
  humans).

  Returns `:ok`, or `{:error, :noproc}` when the store is not running on this
  node.

  ## Example

      :ok = Khepri.info(:my_store, %{})
  """
  @spec info(store_id(), options()) :: :ok | error()
  defdelegate info(store_id, options), to: :khepri
end
