defmodule Khepri do
  @moduledoc """
  A tree-like, Raft-replicated store: the Elixir face of `:khepri`.

  Every function here has the same name, arguments and return values as the
  `:khepri` function of the same arity, so Erlang documentation and examples
  apply unchanged; only the bang variants (`get!/3`, ...) differ in the
  exception they raise (see "Bang variants" below). `Khepri.Adv` gives the
  same calls with detailed results.

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
  ...}}`.

  ## Bang variants

  `get!/1..3`, `put!/2..4`, ... (one per query and write returning `{:ok,
  value}`, `:ok` or a boolean, with the same arities) return the bare value
  (`value`, `:ok`, the boolean) and raise `Khepri.Error` instead of returning
  `{:error, reason}`; its `name` and `props` are filled for `{:khepri, name,
  props}` reasons:

      150 = Khepri.get!(:my_store, ~p"/:stock/:wood/oak")

      try do
        Khepri.get!(:my_store, ~p"/:stock/:wood/pine")
      rescue
        e in Khepri.Error -> {e.name, e.props.node_path}
      end
      #=> {:node_not_found, [:stock, :wood, "pine"]}

  Unlike the Erlang `:khepri.'get!'/1..3`, which call `erlang:error(Reason)`,
  they raise a `Khepri.Error`; other exceptions (the `{:khepri_ex, name,
  props}` ones above) pass through unchanged.

  ## Node properties

  `fold/5`, `foreach/4`, `map/4`, `filter/4` and `Khepri.Adv` give each node
  as a map of properties, the keys listed in the `:props_to_return` option
  (default `[:payload, :payload_version, :delete_reason]`): `:data` or
  `:sproc` (the payload, absent for a node without one), `:payload_version`,
  `:child_list_version`, `:child_list_length`, `:child_names`, `:has_data` or
  `:is_sproc` (`:has_payload`), `:raw_payload` and `:delete_reason`.

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

  @typedoc "The properties of one node: `:data`, `:payload_version`, ... (see the module doc)."
  @type node_props :: :khepri.node_props()

  @typedoc "`%{native_path => node_props}`."
  @type node_props_map :: :khepri.node_props_map()

  @typedoc "The callback of `fold/5`: `fun.(path, node_props, acc)` returns the new `acc`."
  @type fold_fun :: (:khepri_path.native_path(), node_props(), term() -> term())

  @typedoc "The callback of `foreach/4` and `map/4`: `fun.(path, node_props)`."
  @type each_fun :: (:khepri_path.native_path(), node_props() -> term())

  @typedoc "The predicate of `filter/4`: `fun.(path, node_props)` returns a boolean."
  @type filter_fun :: (:khepri_path.native_path(), node_props() -> boolean())

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
  Leaves the cluster, deletes the local data of the default store and
  stops it. Same as `Khepri.Cluster.reset/0`.
  """
  @spec reset() :: :ok | error()
  defdelegate reset(), to: :khepri

  @doc """
  `reset(store_id)` or `reset(timeout)`. Same as `Khepri.Cluster.reset/1`.

  ## Example

      :ok = Khepri.reset(:my_store)
  """
  @spec reset(store_id() | timeout()) :: :ok | error()
  defdelegate reset(store_id_or_timeout), to: :khepri

  @doc """
  Leaves the cluster (within `timeout`), deletes the local data of
  `store_id` and stops it. Same as `Khepri.Cluster.reset/2`.
  """
  @spec reset(store_id(), timeout()) :: :ok | error()
  defdelegate reset(store_id, timeout), to: :khepri

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
      `node_path` then names that ancestor), or when it exists but fails a
      condition of `path` (the props then hold the `condition`);
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
  Reads the payload of one node of the default store, or `default`. Same as
  `get_or/4`.

  ## Example

      {:ok, 0} = Khepri.get_or(~p"/:stock/:wood/pine", 0)
  """
  @spec get_or(path(), term()) :: {:ok, data()} | error()
  defdelegate get_or(path, default), to: :khepri

  @doc """
  `get_or(store_id, path, default)` or `get_or(path, default, options)`
  (default store). Same as `get_or/4`.

  ## Example

      {:ok, 150} = Khepri.get_or(:my_store, ~p"/:stock/:wood/oak", 0)
      {:ok, 0} = Khepri.get_or(~p"/:stock/:wood/pine", 0, %{})
  """
  @spec get_or(store_id(), path(), term()) :: {:ok, data()} | error()
  @spec get_or(path(), term(), options()) :: {:ok, data()} | error()
  defdelegate get_or(store_id_or_path, path_or_default, default_or_options), to: :khepri

  @doc """
  Reads the payload of the node at `path`, or `default`.

  Returns `{:ok, data}` (the fun of a stored procedure), or `{:ok, default}`
  when the node does not exist, has no payload or fails a condition of
  `path`; `{:error, :noproc}` when the store is not running on this node.
  Raises like `get/3` for patterns and malformed paths.

  ## Example

      {:ok, 150} = Khepri.get_or(:my_store, ~p"/:stock/:wood/oak", 0, %{})
      {:ok, 0} = Khepri.get_or(:my_store, ~p"/:stock/:wood/pine", 0, %{})
      {:ok, 0} = Khepri.get_or(:my_store, ~p"/:stock/:wood", 0, %{})
  """
  @spec get_or(store_id(), path(), term(), options()) :: {:ok, data()} | error()
  defdelegate get_or(store_id, path, default, options), to: :khepri

  @doc """
  Reads the payloads of every node of the default store matching `pattern`.
  Same as `get_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} = Khepri.get_many(~p"/:stock/:wood/*")
  """
  @spec get_many(path()) :: {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many(pattern), to: :khepri

  @doc """
  `get_many(store_id, pattern)` or `get_many(pattern, options)` (default
  store). Same as `get_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} = Khepri.get_many(:my_store, "/:stock/:wood/*")
  """
  @spec get_many(store_id(), path()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  @spec get_many(path(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many(store_id_or_pattern, pattern_or_options), to: :khepri

  @doc """
  Reads the payloads of every node matching `pattern`.

  Returns `{:ok, %{native_path => data}}`, where `data` is `:undefined` for a
  node without payload and the fun of a stored procedure, `{:ok, %{}}` when
  nothing matches (never `node_not_found`), or `{:error, :noproc}`. The root
  node is included only for the pattern `[]` or with `include_root_props:
  true`. Raises `invalid_path` for a malformed pattern.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:zoo/:cats/tom", 3)
      :ok = Khepri.put(:my_store, ~p"/:zoo/:dogs/rex", 5)

      {:ok, %{[:zoo, :cats, "tom"] => 3, [:zoo, :dogs, "rex"] => 5}} =
        Khepri.get_many(:my_store, ~p"/:zoo/*/*", %{})
  """
  @spec get_many(store_id(), path(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many(store_id, pattern, options), to: :khepri

  @doc """
  Reads the payloads of every node of the default store matching `pattern`,
  `default` for nodes without payload. Same as `get_many_or/4`.

  ## Example

      {:ok, %{[:stock, :wood] => :none}} = Khepri.get_many_or(~p"/:stock/*", :none)
  """
  @spec get_many_or(path(), term()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many_or(pattern, default), to: :khepri

  @doc """
  `get_many_or(store_id, pattern, default)` or `get_many_or(pattern, default,
  options)` (default store). Same as `get_many_or/4`.

  ## Example

      {:ok, %{[:stock, :wood] => :none}} = Khepri.get_many_or(:my_store, ~p"/:stock/*", :none)
  """
  @spec get_many_or(store_id(), path(), term()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  @spec get_many_or(path(), term(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many_or(store_id_or_pattern, pattern_or_default, default_or_options),
    to: :khepri

  @doc """
  Like `get_many/3`, with `default` instead of `:undefined` for the matching
  nodes without payload.

  Returns `{:ok, %{native_path => data | default}}`, `{:ok, %{}}` when nothing
  matches, or `{:error, :noproc}`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)

      {:ok, %{[:stock, :wood] => :none, [:stock, :wood, "oak"] => 150}} =
        Khepri.get_many_or(:my_store, ~p"/:stock/**", :none, %{})
  """
  @spec get_many_or(store_id(), path(), term(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many_or(store_id, pattern, default, options), to: :khepri

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

  Returns `true` or `false` (a missing node is not an error, and a node
  failing a condition of `path` does not count), or `{:error, :noproc}` when
  the store is not running on this node. Raises like `get/3` for patterns
  and malformed paths.

  ## Example

      true = Khepri.exists(:my_store, ~p"/:stock/:wood/oak", %{})
  """
  @spec exists(store_id(), path(), options()) :: boolean() | error()
  defdelegate exists(store_id, path, options), to: :khepri

  @doc """
  Tells whether a node of the default store holds data. Same as
  `has_data/3`.

  ## Example

      true = Khepri.has_data(~p"/:stock/:wood/oak")
  """
  @spec has_data(path()) :: boolean() | error()
  defdelegate has_data(path), to: :khepri

  @doc """
  `has_data(store_id, path)` or `has_data(path, options)` (default store).
  Same as `has_data/3`.

  ## Example

      false = Khepri.has_data(:my_store, ~p"/:stock/:wood")
  """
  @spec has_data(store_id(), path()) :: boolean() | error()
  @spec has_data(path(), options()) :: boolean() | error()
  defdelegate has_data(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Tells whether the node at `path` holds data (not a stored procedure).

  Returns `true`, or `false` when the node has no payload, holds a stored
  procedure or does not exist; `{:error, :noproc}` when the store is not
  running on this node. Raises like `get/3` for patterns and malformed paths.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      true = Khepri.has_data(:my_store, ~p"/:stock/:wood/oak", %{})
      false = Khepri.has_data(:my_store, ~p"/:stock/:wood", %{})
  """
  @spec has_data(store_id(), path(), options()) :: boolean() | error()
  defdelegate has_data(store_id, path, options), to: :khepri

  @doc """
  Tells whether a node of the default store holds a stored procedure. Same
  as `is_sproc/3`.

  ## Example

      true = Khepri.is_sproc(~p"/:procs/:hello")
  """
  @spec is_sproc(path()) :: boolean() | error()
  defdelegate is_sproc(path), to: :khepri

  @doc """
  `is_sproc(store_id, path)` or `is_sproc(path, options)` (default store).
  Same as `is_sproc/3`.

  ## Example

      true = Khepri.is_sproc(:my_store, ~p"/:procs/:hello")
  """
  @spec is_sproc(store_id(), path()) :: boolean() | error()
  @spec is_sproc(path(), options()) :: boolean() | error()
  defdelegate is_sproc(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Tells whether the node at `path` holds a stored procedure (a function
  given as payload).

  Returns `true`, or `false` when the node holds data, has no payload or does
  not exist; `{:error, :noproc}` when the store is not running on this node.
  Raises like `get/3` for patterns and malformed paths.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:procs/:hello", fn -> :hi end)
      true = Khepri.is_sproc(:my_store, ~p"/:procs/:hello", %{})
  """
  @spec is_sproc(store_id(), path(), options()) :: boolean() | error()
  defdelegate is_sproc(store_id, path, options), to: :khepri

  @doc """
  Runs the stored procedure at `path` of the default store with `args`.
  Same as `run_sproc/4`.

  ## Example

      3 = Khepri.run_sproc(~p"/:procs/:add", [1, 2])
  """
  @spec run_sproc(path(), list()) :: term()
  defdelegate run_sproc(path, args), to: :khepri

  @doc """
  `run_sproc(store_id, path, args)` or `run_sproc(path, args, options)`
  (default store). Same as `run_sproc/4`.
  """
  @spec run_sproc(store_id(), path(), list()) :: term()
  @spec run_sproc(path(), list(), options()) :: term()
  defdelegate run_sproc(store_id_or_path, path_or_args, args_or_options), to: :khepri

  @doc """
  Runs the stored procedure at `path` with `args` in the calling process
  and returns its value.

  Throws `{:khepri, :failed_to_get_sproc, %{path:, args:, error:}}` when the
  node cannot be read, and `{:khepri_ex, :denied_execution_of_non_sproc_node,
  %{path:, args:, node_props:}}` when it holds no stored procedure.
  Exceptions raised by the procedure propagate.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:procs/:add", fn a, b -> a + b end)
      3 = Khepri.run_sproc(:my_store, ~p"/:procs/:add", [1, 2], %{})
  """
  @spec run_sproc(store_id(), path(), list(), options()) :: term()
  defdelegate run_sproc(store_id, path, args, options), to: :khepri

  @doc """
  Counts the nodes of the default store matching `pattern`. Same as
  `count/3`.

  ## Example

      {:ok, 2} = Khepri.count(~p"/:zoo/*/*")
  """
  @spec count(path()) :: {:ok, non_neg_integer()} | error()
  defdelegate count(pattern), to: :khepri

  @doc """
  `count(store_id, pattern)` or `count(pattern, options)` (default store).
  Same as `count/3`.

  ## Example

      {:ok, 2} = Khepri.count(:my_store, "/:zoo/*/*")
  """
  @spec count(store_id(), path()) :: {:ok, non_neg_integer()} | error()
  @spec count(path(), options()) :: {:ok, non_neg_integer()} | error()
  defdelegate count(store_id_or_pattern, pattern_or_options), to: :khepri

  @doc """
  Counts the nodes matching `pattern`.

  Returns `{:ok, n}` (`{:ok, 0}` when nothing matches) or `{:error,
  :noproc}`. The root node counts only for the pattern `[]` or with
  `include_root_props: true`; the `:expect_specific_node` option is always
  `false` here.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:zoo/:cats/tom", 3)
      :ok = Khepri.put(:my_store, ~p"/:zoo/:dogs/rex", 5)
      {:ok, 2} = Khepri.count(:my_store, ~p"/:zoo/*/*", %{})
      {:ok, 4} = Khepri.count(:my_store, ~p"/:zoo/**", %{})
  """
  @spec count(store_id(), path(), options()) :: {:ok, non_neg_integer()} | error()
  defdelegate count(store_id, pattern, options), to: :khepri

  @doc """
  Folds over the nodes of the default store matching `pattern`. Same as
  `fold/5`.

  ## Example

      {:ok, 155} = Khepri.fold(~p"/:stock/*/*", fn _path, props, sum -> sum + props.data end, 0)
  """
  @spec fold(path(), fold_fun(), term()) :: {:ok, term()} | error()
  defdelegate fold(pattern, fun, acc), to: :khepri

  @doc """
  `fold(store_id, pattern, fun, acc)` or `fold(pattern, fun, acc, options)`
  (default store). Same as `fold/5`.

  ## Example

      {:ok, paths} = Khepri.fold(:my_store, ~p"/:stock/**", fn path, _, acc -> [path | acc] end, [])
  """
  @spec fold(store_id(), path(), fold_fun(), term()) :: {:ok, term()} | error()
  @spec fold(path(), fold_fun(), term(), options()) :: {:ok, term()} | error()
  defdelegate fold(store_id_or_pattern, pattern_or_fun, fun_or_acc, acc_or_options),
    to: :khepri

  @doc """
  Folds `fun.(path, node_props, acc)` over the nodes matching `pattern`,
  starting with `acc` (parents before their children).

  `node_props` holds the properties listed in `:props_to_return` (by default
  `:data` or `:sproc` when the node has a payload, and `:payload_version`).
  Returns `{:ok, acc}` (`{:ok, acc}` unchanged when nothing matches) or
  `{:error, :noproc}`. `fun` runs in the calling process on one consistent
  snapshot, so it may call the store; what it raises propagates to the
  caller.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/birch", 5)

      {:ok, 155} =
        Khepri.fold(:my_store, ~p"/:stock/:wood/*", fn _path, %{data: n}, sum -> sum + n end, 0, %{})
  """
  @spec fold(store_id(), path(), fold_fun(), term(), options()) :: {:ok, term()} | error()
  defdelegate fold(store_id, pattern, fun, acc, options), to: :khepri

  @doc """
  Calls `fun` for each node of the default store matching `pattern`. Same as
  `foreach/4`.

  ## Example

      :ok = Khepri.foreach(~p"/:stock/*/*", fn path, _props -> IO.inspect(path) end)
  """
  @spec foreach(path(), each_fun()) :: :ok | error()
  defdelegate foreach(pattern, fun), to: :khepri

  @doc """
  `foreach(store_id, pattern, fun)` or `foreach(pattern, fun, options)`
  (default store). Same as `foreach/4`.

  ## Example

      :ok = Khepri.foreach(:my_store, ~p"/:stock/*/*", fn path, _props -> IO.inspect(path) end)
  """
  @spec foreach(store_id(), path(), each_fun()) :: :ok | error()
  @spec foreach(path(), each_fun(), options()) :: :ok | error()
  defdelegate foreach(store_id_or_pattern, pattern_or_fun, fun_or_options), to: :khepri

  @doc """
  Calls `fun.(path, node_props)` for each node matching `pattern`, in the
  calling process (`node_props` as in `fold/5`).

  Returns `:ok` or `{:error, :noproc}`.

  ## Example

      :ok =
        Khepri.foreach(:my_store, ~p"/:stock/:wood/*", fn path, props ->
          send(self(), {path, props[:data]})
        end, %{})
  """
  @spec foreach(store_id(), path(), each_fun(), options()) :: :ok | error()
  defdelegate foreach(store_id, pattern, fun, options), to: :khepri

  @doc """
  Maps the nodes of the default store matching `pattern`. Same as `map/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 1}} = Khepri.map(~p"/:stock/:wood/*", fn _, p -> p.payload_version end)
  """
  @spec map(path(), each_fun()) :: {:ok, %{:khepri_path.native_path() => term()}} | error()
  defdelegate map(pattern, fun), to: :khepri

  @doc """
  `map(store_id, pattern, fun)` or `map(pattern, fun, options)` (default
  store). Same as `map/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 1}} =
        Khepri.map(:my_store, ~p"/:stock/:wood/*", fn _, p -> p.payload_version end)
  """
  @spec map(store_id(), path(), each_fun()) ::
          {:ok, %{:khepri_path.native_path() => term()}} | error()
  @spec map(path(), each_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => term()}} | error()
  defdelegate map(store_id_or_pattern, pattern_or_fun, fun_or_options), to: :khepri

  @doc """
  Calls `fun.(path, node_props)` for each node matching `pattern`, in the
  calling process (`node_props` as in `fold/5`).

  Returns `{:ok, %{native_path => result}}` (`{:ok, %{}}` when nothing
  matches) or `{:error, :noproc}`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)

      {:ok, %{[:stock, :wood, "oak"] => {3, 150}}} =
        Khepri.map(:my_store, ~p"/:stock/:wood/*", fn path, props -> {length(path), props.data} end, %{})
  """
  @spec map(store_id(), path(), each_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => term()}} | error()
  defdelegate map(store_id, pattern, fun, options), to: :khepri

  @doc """
  Selects the nodes of the default store matching `pattern` and `pred`. Same
  as `filter/4`.

  ## Example

      expensive = fn _path, props -> match?(%{data: n} when n > 100, props) end
      {:ok, %{[:stock, :wood, "oak"] => 150}} = Khepri.filter(~p"/:stock/:wood/*", expensive)
  """
  @spec filter(path(), filter_fun()) :: {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate filter(pattern, pred), to: :khepri

  @doc """
  `filter(store_id, pattern, pred)` or `filter(pattern, pred, options)`
  (default store). Same as `filter/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} =
        Khepri.filter(:my_store, ~p"/:stock/:wood/*", fn _, p -> match?(%{data: 150}, p) end)
  """
  @spec filter(store_id(), path(), filter_fun()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  @spec filter(path(), filter_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate filter(store_id_or_pattern, pattern_or_pred, pred_or_options), to: :khepri

  @doc """
  Selects the nodes matching `pattern` for which `pred.(path, node_props)`
  returns `true` (`pred` runs in the calling process; `node_props` as in
  `fold/5`, always with the payload).

  Returns `{:ok, %{native_path => data}}` like `get_many/3` (`:undefined` for
  a node without payload, the fun of a stored procedure), `{:ok, %{}}` when
  nothing is selected, or `{:error, :noproc}`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/birch", 5)

      {:ok, %{[:stock, :wood, "oak"] => 150}} =
        Khepri.filter(
          :my_store,
          ~p"/:stock/:wood/*",
          fn _path, props -> match?(%{data: n} when n > 100, props) end,
          %{}
        )
  """
  @spec filter(store_id(), path(), filter_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate filter(store_id, pattern, pred, options), to: :khepri

  @doc """
  Tells whether the default store is empty. Same as `is_empty/2`.

  ## Example

      true = Khepri.is_empty()
  """
  @spec is_empty() :: boolean() | error()
  defdelegate is_empty(), to: :khepri

  @doc """
  `is_empty(store_id)` or `is_empty(options)` (default store). Same as
  `is_empty/2`.

  ## Example

      true = Khepri.is_empty(:my_store)
      true = Khepri.is_empty(%{favor: :consistency})
  """
  @spec is_empty(store_id() | options()) :: boolean() | error()
  defdelegate is_empty(store_id_or_options), to: :khepri

  @doc """
  Tells whether the store is empty: its root node has no child (a payload on
  the root itself does not count).

  Returns `true` or `false`, or `{:error, :noproc}` when the store is not
  running on this node.

  ## Example

      true = Khepri.is_empty(:my_store, %{})
      :ok = Khepri.put(:my_store, ~p"/:stock", 1)
      false = Khepri.is_empty(:my_store, %{})
  """
  @spec is_empty(store_id(), options()) :: boolean() | error()
  defdelegate is_empty(store_id, options), to: :khepri

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

  `data` is any term; a function is stored as a stored procedure, and
  `Khepri.Payload.none/0` stores no payload. Writing the payload the node
  already holds changes nothing (no version bump). The `:keep_while` option,
  `%{path => condition}`, keeps the node only while every condition holds
  (see `Khepri.Condition`).

  Returns `:ok` once the local member applied the write, or:

    * `{:error, {:khepri, :mismatching_node, props}}` or `{:error, {:khepri,
      :node_not_found, props}}` when a condition of `path` fails;
    * `{:error, {:khepri, :keep_while_conditions_not_met, %{node_name: name,
      node_path: path, keep_while_reason: reason}}}` when a `:keep_while`
      condition on another node does not hold;
    * `{:error, :noproc}` when the store is not running on this node, or
      `{:error, :timeout}`.

  Raises `possibly_matching_many_nodes_denied` for a pattern, `invalid_path`
  for a malformed path, and `invalid_option` for a bad option.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150, %{})
      :ok = Khepri.put(:my_store, [:stock, :wood, "birch"], 20, %{})

      require Khepri.Condition

      :ok =
        Khepri.put(:my_store, ~p"/:prices/oak", 3, %{
          keep_while: %{~p"/:stock/:wood/oak" => Khepri.Condition.if_node_exists(exists: true)}
        })
  """
  @spec put(store_id(), path(), data(), options()) :: :ok | error()
  defdelegate put(store_id, path, data, options), to: :khepri

  @doc """
  Sets the payload of every node of the default store matching `pattern`.
  Same as `put_many/4`.

  ## Example

      :ok = Khepri.put_many(~p"/:stock/:wood/*", 0)
  """
  @spec put_many(path(), data()) :: :ok | error()
  defdelegate put_many(pattern, data), to: :khepri

  @doc """
  `put_many(store_id, pattern, data)` or `put_many(pattern, data, options)`
  (default store). Same as `put_many/4`.

  ## Example

      :ok = Khepri.put_many(:my_store, ~p"/:stock/:wood/*", 0)
  """
  @spec put_many(store_id(), path(), data()) :: :ok | error()
  @spec put_many(path(), data(), options()) :: :ok | error()
  defdelegate put_many(store_id_or_pattern, pattern_or_data, data_or_options), to: :khepri

  @doc """
  Sets the payload of every node matching `pattern`.

  Conditions and wildcards visit existing nodes only; plain names after them
  are created under each match (`~p"/:stock/*/price"` creates `price` under
  every existing child of `stock`). A pattern matching nothing writes
  nothing. Returns `:ok`, or the errors of `put/4`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/birch", 20)
      :ok = Khepri.put_many(:my_store, ~p"/:stock/:wood/*", 0, %{})
      {:ok, 0} = Khepri.get(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec put_many(store_id(), path(), data(), options()) :: :ok | error()
  defdelegate put_many(store_id, pattern, data, options), to: :khepri

  @doc """
  Creates one node of the default store. Same as `create/4`.

  ## Example

      :ok = Khepri.create(~p"/:stock/:wood/oak", 150)
  """
  @spec create(path(), data()) :: :ok | error()
  defdelegate create(path, data), to: :khepri

  @doc """
  `create(store_id, path, data)` or `create(path, data, options)` (default
  store). Same as `create/4`.

  ## Example

      :ok = Khepri.create(:my_store, ~p"/:stock/:wood/oak", 150)
  """
  @spec create(store_id(), path(), data()) :: :ok | error()
  @spec create(path(), data(), options()) :: :ok | error()
  defdelegate create(store_id_or_path, path_or_data, data_or_options), to: :khepri

  @doc """
  Creates the node at `path` with `data`, unless it exists: `put/4` with
  `Khepri.Condition.if_node_exists(exists: false)` on the last component.

  Returns `:ok`, or when the node exists `{:error, {:khepri,
  :mismatching_node, %{node_name: name, node_path: path, node_is_target:
  true, condition: if_node_exists(exists: false), node_props: %{data: old,
  payload_version: v}}}}`; otherwise the errors of `put/4`.

  ## Example

      :ok = Khepri.create(:my_store, ~p"/:fruit", :pear, %{})

      {:error, {:khepri, :mismatching_node, %{node_props: %{data: :pear}}}} =
        Khepri.create(:my_store, ~p"/:fruit", :kiwi, %{})
  """
  @spec create(store_id(), path(), data(), options()) :: :ok | error()
  defdelegate create(store_id, path, data, options), to: :khepri

  @doc """
  Updates one existing node of the default store. Same as `update/4`.

  ## Example

      :ok = Khepri.update(~p"/:stock/:wood/oak", 151)
  """
  @spec update(path(), data()) :: :ok | error()
  defdelegate update(path, data), to: :khepri

  @doc """
  `update(store_id, path, data)` or `update(path, data, options)` (default
  store). Same as `update/4`.

  ## Example

      :ok = Khepri.update(:my_store, ~p"/:stock/:wood/oak", 151)
  """
  @spec update(store_id(), path(), data()) :: :ok | error()
  @spec update(path(), data(), options()) :: :ok | error()
  defdelegate update(store_id_or_path, path_or_data, data_or_options), to: :khepri

  @doc """
  Sets the payload of the existing node at `path`: `put/4` with
  `Khepri.Condition.if_node_exists(exists: true)` on the last component.

  Returns `:ok`, or when the node does not exist `{:error, {:khepri,
  :node_not_found, %{node_name: name, node_path: path, node_is_target: true,
  condition: if_all(conditions: [name, if_node_exists(exists: true)])}}}`;
  otherwise the errors of `put/4`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear)
      :ok = Khepri.update(:my_store, ~p"/:fruit", :plum, %{})

      {:error, {:khepri, :node_not_found, %{node_path: [:veg]}}} =
        Khepri.update(:my_store, ~p"/:veg", :leek, %{})
  """
  @spec update(store_id(), path(), data(), options()) :: :ok | error()
  defdelegate update(store_id, path, data, options), to: :khepri

  @doc """
  Compare-and-swap on one node of the default store. Same as
  `compare_and_swap/5`.

  ## Example

      :ok = Khepri.compare_and_swap(~p"/:fruit", :pear, :plum)
  """
  @spec compare_and_swap(path(), term(), data()) :: :ok | error()
  defdelegate compare_and_swap(path, data_pattern, data), to: :khepri

  @doc """
  `compare_and_swap(store_id, path, data_pattern, data)` or
  `compare_and_swap(path, data_pattern, data, options)` (default store). Same
  as `compare_and_swap/5`.

  ## Example

      :ok = Khepri.compare_and_swap(:my_store, ~p"/:fruit", :pear, :plum)
  """
  @spec compare_and_swap(store_id(), path(), term(), data()) :: :ok | error()
  @spec compare_and_swap(path(), term(), data(), options()) :: :ok | error()
  defdelegate compare_and_swap(
                store_id_or_path,
                path_or_pattern,
                pattern_or_data,
                data_or_options
              ),
              to: :khepri

  @doc """
  Sets the payload of the node at `path` to `data` if its current data match
  `data_pattern`: `put/4` with `Khepri.Condition.if_data_matches(pattern:
  data_pattern)` on the last component.

  `data_pattern` is an ETS match pattern (`:_` matches anything, `:"$1"`
  binds a variable). Returns `:ok`, or:

    * `{:error, {:khepri, :mismatching_node, %{condition:
      if_data_matches(...), node_props: %{data: current, ...}, ...}}}` when
      the data do not match;
    * `{:error, {:khepri, :node_not_found, _}}` when the node does not exist;
    * the other errors of `put/4`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear)
      :ok = Khepri.compare_and_swap(:my_store, ~p"/:fruit", :pear, :plum, %{})

      {:error, {:khepri, :mismatching_node, %{node_props: %{data: :plum}}}} =
        Khepri.compare_and_swap(:my_store, ~p"/:fruit", :apple, :fig, %{})
  """
  @spec compare_and_swap(store_id(), path(), term(), data(), options()) :: :ok | error()
  defdelegate compare_and_swap(store_id, path, data_pattern, data, options), to: :khepri

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
  Deletes the node at `path` and its whole subtree; nodes whose
  `:keep_while` conditions no longer hold are deleted too.

  Returns `:ok`, also when the node does not exist, or `{:error, :noproc}`
  when the store is not running on this node. Raises like `put/4` for
  patterns and malformed paths.

  ## Example

      :ok = Khepri.delete(:my_store, ~p"/:stock/:wood", %{})
      false = Khepri.exists(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec delete(store_id(), path(), options()) :: :ok | error()
  defdelegate delete(store_id, path, options), to: :khepri

  @doc """
  Deletes every node of the default store matching `pattern`. Same as
  `delete_many/3`.

  ## Example

      :ok = Khepri.delete_many(~p"/:stock/*")
  """
  @spec delete_many(path()) :: :ok | error()
  defdelegate delete_many(pattern), to: :khepri

  @doc """
  `delete_many(store_id, pattern)` or `delete_many(pattern, options)`
  (default store). Same as `delete_many/3`.

  ## Example

      :ok = Khepri.delete_many(:my_store, "/:stock/*")
  """
  @spec delete_many(store_id(), path()) :: :ok | error()
  @spec delete_many(path(), options()) :: :ok | error()
  defdelegate delete_many(store_id_or_pattern, pattern_or_options), to: :khepri

  @doc """
  Deletes every node matching `pattern`, with their subtrees.

  `"**"` (`[Khepri.Path.star_star()]`) empties the store; the root node
  itself always stays. Returns `:ok`, also when nothing matches, or `{:error,
  :noproc}`.

  ## Example

      :ok = Khepri.delete_many(:my_store, ~p"/:stock/:wood/*", %{})
      :ok = Khepri.delete_many(:my_store, "**", %{})
      true = Khepri.is_empty(:my_store)
  """
  @spec delete_many(store_id(), path(), options()) :: :ok | error()
  defdelegate delete_many(store_id, pattern, options), to: :khepri

  @doc """
  Removes the payload of one node of the default store. Same as
  `clear_payload/3`.

  ## Example

      :ok = Khepri.clear_payload(~p"/:stock/:wood/oak")
  """
  @spec clear_payload(path()) :: :ok | error()
  defdelegate clear_payload(path), to: :khepri

  @doc """
  `clear_payload(store_id, path)` or `clear_payload(path, options)` (default
  store). Same as `clear_payload/3`.

  ## Example

      :ok = Khepri.clear_payload(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec clear_payload(store_id(), path()) :: :ok | error()
  @spec clear_payload(path(), options()) :: :ok | error()
  defdelegate clear_payload(store_id_or_path, path_or_options), to: :khepri

  @doc """
  Removes the payload of the node at `path`; the node and its children stay.

  Returns `:ok`, also when the node does not exist or has no payload (then
  nothing changes), or `{:error, :noproc}`. Raises like `put/4` for patterns
  and malformed paths.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.clear_payload(:my_store, ~p"/:stock/:wood/oak", %{})
      {:ok, :undefined} = Khepri.get(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec clear_payload(store_id(), path(), options()) :: :ok | error()
  defdelegate clear_payload(store_id, path, options), to: :khepri

  @doc """
  Removes the payloads of the nodes of the default store matching `pattern`.
  Same as `clear_many_payloads/3`.

  ## Example

      :ok = Khepri.clear_many_payloads(~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(path()) :: :ok | error()
  defdelegate clear_many_payloads(pattern), to: :khepri

  @doc """
  `clear_many_payloads(store_id, pattern)` or `clear_many_payloads(pattern,
  options)` (default store). Same as `clear_many_payloads/3`.

  ## Example

      :ok = Khepri.clear_many_payloads(:my_store, ~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(store_id(), path()) :: :ok | error()
  @spec clear_many_payloads(path(), options()) :: :ok | error()
  defdelegate clear_many_payloads(store_id_or_pattern, pattern_or_options), to: :khepri

  @doc """
  Removes the payload of every existing node matching `pattern`.

  Returns `:ok`, also when nothing matches, or `{:error, :noproc}`.

  ## Example

      :ok = Khepri.clear_many_payloads(:my_store, ~p"/:stock/:wood/*", %{})

      {:ok, %{[:stock, :wood, "oak"] => :undefined}} =
        Khepri.get_many(:my_store, ~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(store_id(), path(), options()) :: :ok | error()
  defdelegate clear_many_payloads(store_id, pattern, options), to: :khepri

  # -------------------------------------------------------------------
  # Bang variants.
  #
  # The Erlang bang variants call erlang:error(Reason); these raise
  # Khepri.Error instead (SPEC 2.14), so they are written here on top of the
  # plain functions. Each entry generates the three arities of one function:
  # its longest form (store id, arguments, options), the form without store
  # id and options, and the ambiguous middle form whose arguments are named
  # after both readings (`store_id_or_path`, `path_or_options`).
  # -------------------------------------------------------------------

  bang_functions = [
    # {name, arguments of the longest form, return type, what it returns,
    #  example arguments after the store id, example result}
    {:get, [:store_id, :path, :options], quote(do: data()),
     "the data itself (`:undefined` for a node without payload, the fun of a stored procedure)",
     ~S|~p"/:stock/:wood/oak"|, "150"},
    {:get_or, [:store_id, :path, :default, :options], quote(do: data()),
     "the data or `default` itself", ~S|~p"/:stock/:wood/pine", 0|, "0"},
    {:get_many, [:store_id, :pattern, :options],
     quote(do: %{:khepri_path.native_path() => data()}), "the map of payloads itself",
     ~S|~p"/:stock/:wood/*"|, ~S|%{[:stock, :wood, "oak"] => 150}|},
    {:get_many_or, [:store_id, :pattern, :default, :options],
     quote(do: %{:khepri_path.native_path() => data()}), "the map of payloads itself",
     ~S|~p"/:stock/*", :none|, ~S|%{[:stock, :wood] => :none}|},
    {:exists, [:store_id, :path, :options], quote(do: boolean()), "the boolean",
     ~S|~p"/:stock/:wood/oak"|, "true"},
    {:has_data, [:store_id, :path, :options], quote(do: boolean()), "the boolean",
     ~S|~p"/:stock/:wood/oak"|, "true"},
    {:is_sproc, [:store_id, :path, :options], quote(do: boolean()), "the boolean",
     ~S|~p"/:stock/:wood/oak"|, "false"},
    {:count, [:store_id, :pattern, :options], quote(do: non_neg_integer()),
     "the number of nodes itself", ~S|~p"/:stock/:wood/*"|, "1"},
    {:put, [:store_id, :path, :data, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/oak", 150|, ":ok"},
    {:put_many, [:store_id, :pattern, :data, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/*", 0|, ":ok"},
    {:create, [:store_id, :path, :data, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/elm", 1|, ":ok"},
    {:update, [:store_id, :path, :data, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/oak", 151|, ":ok"},
    {:compare_and_swap, [:store_id, :path, :data_pattern, :data, :options], quote(do: :ok),
     "`:ok`", ~S|~p"/:stock/:wood/oak", 151, 152|, ":ok"},
    {:delete, [:store_id, :path, :options], quote(do: :ok), "`:ok`", ~S|~p"/:stock/:wood/oak"|,
     ":ok"},
    {:delete_many, [:store_id, :pattern, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/*"|, ":ok"},
    {:clear_payload, [:store_id, :path, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/oak"|, ":ok"},
    {:clear_many_payloads, [:store_id, :pattern, :options], quote(do: :ok), "`:ok`",
     ~S|~p"/:stock/:wood/*"|, ":ok"}
  ]

  bang_arg_types = %{
    "store_id" => quote(do: store_id()),
    "path" => quote(do: path()),
    "pattern" => quote(do: path()),
    "options" => quote(do: options()),
    "data" => quote(do: data()),
    "default" => quote(do: term()),
    "data_pattern" => quote(do: term())
  }

  for {name, longest, return_type, returns, example_args, example_result} <- bang_functions do
    bang = :"#{name}!"
    max = length(longest)
    shortest = Enum.slice(longest, 1..-2//1)

    middle =
      longest
      |> Enum.chunk_every(2, 1, :discard)
      |> Enum.map(fn [a, b] -> :"#{a}_or_#{b}" end)

    for args <- [shortest, middle, longest] do
      arity = length(args)
      vars = Enum.map(args, &Macro.var(&1, nil))

      types =
        Enum.map(args, fn arg ->
          arg
          |> Atom.to_string()
          |> String.split("_or_")
          |> Enum.map(&Map.fetch!(bang_arg_types, &1))
          |> Enum.reduce(fn type, union -> quote(do: unquote(union) | unquote(type)) end)
        end)

      call =
        case arity do
          ^max -> "Khepri.#{bang}(:my_store, #{example_args}, %{})"
          _ when arity == max - 1 -> "Khepri.#{bang}(:my_store, #{example_args})"
          _ -> "Khepri.#{bang}(#{example_args})"
        end

      details =
        if arity == max do
          """

          The exception's `reason` is that reason, and its `name` and `props`
          are filled when it is `{:khepri, name, props}` (for instance
          `:node_not_found` or `:mismatching_node`). Exceptions raised by
          `#{name}/#{max}` (`ErlangError` with `original: {:khepri_ex, name,
          props}` for a pattern where one node is expected, a malformed path,
          a bad option) pass through unchanged.
          """
        else
          "Same as `#{bang}/#{max}`.\n"
        end

      @doc """
      Like `#{name}/#{arity}`, but returns #{returns} and raises
      `Khepri.Error` instead of returning `{:error, reason}`.
      #{details}
      ## Example

          #{example_result} = #{call}
      """
      @spec unquote(bang)(unquote_splicing(types)) :: unquote(return_type)
      def unquote(bang)(unquote_splicing(vars)),
        do: unwrap(:khepri.unquote(name)(unquote_splicing(vars)))
    end
  end

  defp unwrap(:ok), do: :ok
  defp unwrap({:ok, value}), do: value
  defp unwrap(boolean) when is_boolean(boolean), do: boolean
  defp unwrap({:error, reason}), do: raise(Khepri.Error, reason: reason)

  # -------------------------------------------------------------------
  # Transactions, fences and async notifications.
  # -------------------------------------------------------------------

  @typedoc """
  What a transaction runs: an anonymous function whose arity is the length of
  the transaction's `args`, or the path of a stored procedure.
  """
  @type tx_fun_or_path :: fun() | path()

  @typedoc "The arguments the transaction function is applied to (default `[]`)."
  @type tx_args :: [term()]

  @typedoc """
  `:ro` (writes raise `denied_update_in_readonly_tx`), `:rw` or `:auto` (the
  default; `:rw` and `:auto` behave the same).
  """
  @type tx_mode :: :ro | :rw | :auto

  @typedoc """
  `{:ok, fun_result}`, `{:error, abort_reason}` (`Khepri.Tx.abort/1`),
  `{:error, :timeout}`, `{:error, :noproc}`, or `:ok` for an async
  transaction.
  """
  @type tx_result :: :ok | {:ok, term()} | error()

  @typedoc "An async notification: `{:ra_event, {store_id, node}, event}`."
  @type ra_event :: {:ra_event, {store_id(), node()}, term()}

  @doc """
  Runs `fun_or_path` as a transaction of the default store. Same as
  `transaction/5`.

  ## Example

      {:ok, 1} =
        Khepri.transaction(fn ->
          {:ok, n} = Khepri.Tx.get_or(~p"/:counter", 0)
          :ok = Khepri.Tx.put(~p"/:counter", n + 1)
          n + 1
        end)
  """
  @spec transaction(tx_fun_or_path()) :: tx_result()
  defdelegate transaction(fun_or_path), to: :khepri

  @doc """
  One of:

    * `transaction(store_id, fun_or_path)`;
    * `transaction(fun_or_path, args)` (default store; `args` is a list);
    * `transaction(fun_or_path, mode)` (default store; `:ro`, `:rw` or
      `:auto`);
    * `transaction(fun_or_path, options)` (default store; a map).

  Same as `transaction/5`.

  ## Example

      {:ok, 3} = Khepri.transaction(:my_store, fn -> 1 + 2 end)
      {:ok, 3} = Khepri.transaction(fn a, b -> a + b end, [1, 2])
      {:ok, {:ok, 0}} = Khepri.transaction(fn -> Khepri.Tx.get_or(~p"/:n", 0) end, :ro)
  """
  @spec transaction(store_id(), tx_fun_or_path()) :: tx_result()
  @spec transaction(tx_fun_or_path(), tx_args() | tx_mode() | options()) :: tx_result()
  defdelegate transaction(store_id_or_fun_or_path, fun_or_path_or_args_or_mode_or_options),
    to: :khepri

  @doc """
  One of:

    * `transaction(store_id, fun_or_path, args | mode | options)`;
    * `transaction(fun_or_path, args, mode | options)` (default store);
    * `transaction(fun_or_path, mode, options)` (default store).

  Same as `transaction/5`.

  ## Example

      {:ok, 3} = Khepri.transaction(:my_store, fn a, b -> a + b end, [1, 2])
      {:ok, 0} = Khepri.transaction(:my_store, fn -> 0 end, :ro)
      {:ok, 0} = Khepri.transaction(fn -> 0 end, :ro, %{favor: :consistency})
  """
  @spec transaction(store_id(), tx_fun_or_path(), tx_args() | tx_mode() | options()) ::
          tx_result()
  @spec transaction(tx_fun_or_path(), tx_args(), tx_mode() | options()) :: tx_result()
  @spec transaction(tx_fun_or_path(), tx_mode(), options()) :: tx_result()
  defdelegate transaction(
                store_id_or_fun_or_path,
                fun_or_path_or_args_or_mode,
                args_or_mode_or_options
              ),
              to: :khepri

  @doc """
  One of:

    * `transaction(store_id, fun_or_path, args, mode | options)`;
    * `transaction(store_id, fun_or_path, mode, options)`;
    * `transaction(fun_or_path, args, mode, options)` (default store).

  Same as `transaction/5`.

  ## Example

      {:ok, 3} = Khepri.transaction(:my_store, fn a, b -> a + b end, [1, 2], :ro)
      :ok = Khepri.transaction(:my_store, fn -> Khepri.Tx.put(~p"/:n", 1) end, :rw, %{async: true})
  """
  @spec transaction(store_id(), tx_fun_or_path(), tx_args(), tx_mode() | options()) ::
          tx_result()
  @spec transaction(store_id(), tx_fun_or_path(), tx_mode(), options()) :: tx_result()
  @spec transaction(tx_fun_or_path(), tx_args(), tx_mode(), options()) :: tx_result()
  defdelegate transaction(
                store_id_or_fun_or_path,
                fun_or_path_or_args,
                args_or_mode,
                mode_or_options
              ),
              to: :khepri

  @doc """
  Runs `fun_or_path` applied to `args` as a transaction of `store_id` and
  commits what it wrote atomically.

  `fun_or_path` is an anonymous function of arity `length(args)` (another
  arity raises `{:khepri_ex, :denied_tx_fun_with_invalid_args, %{fun: fun,
  arity: arity, args: args}}`), or the path of a stored procedure, which is
  read inside the transaction and applied to `args`.

  The function runs in the calling process, against a snapshot of the local
  member's tree; it reads and writes with `Khepri.Tx` (or `Khepri.TxAdv`),
  whose reads see the transaction's own earlier writes. When it returns:

    * if it wrote nothing, the call returns `{:ok, result}` at once;
    * otherwise its writes are committed as one replicated command, applied
      only if everything it read is unchanged; on a conflict with another
      write, the function is run again on a fresh snapshot (so it must have
      no side effects other than `Khepri.Tx` calls) until it commits or the
      `:timeout` option expires (`{:error, :timeout}`).

  `Khepri.Tx.abort(reason)` ends the transaction: nothing is committed and
  the call returns `{:error, reason}`. An exception raised by the function is
  re-raised in the caller, with nothing committed. `{:error, :noproc}` means
  the store is not running on this node.

  `mode` is `:auto` (the default), `:rw` or `:ro`: in a read-only
  transaction, a write raises `{:khepri_ex, :denied_update_in_readonly_tx,
  %{}}`. A read-only run is as fresh as the local member; pass `favor:
  :consistency` for a linearizable read.

  `options` are the command and query options (`:timeout`, `:async`,
  `:favor`, `:condition`, `:protect_against_dups`, ...). With `:async` set,
  the function runs in a process of its own and the call returns `:ok` at
  once; with a correlation (`async: correlation` or `async: {correlation,
  priority}`) the outcome is sent to the caller as an `:ra_event` message,
  to be decoded by `handle_async_ret/2`.

  ## Example

      import Khepri.Path, only: [sigil_p: 2]

      {:ok, 1} =
        Khepri.transaction(:my_store, fn ->
          {:ok, n} = Khepri.Tx.get_or(~p"/:counter", 0)
          :ok = Khepri.Tx.put(~p"/:counter", n + 1)
          n + 1
        end, [], :rw, %{timeout: 5000})

      {:error, :empty} =
        Khepri.transaction(:my_store, fn ->
          if Khepri.Tx.is_empty(), do: Khepri.Tx.abort(:empty), else: :not_empty
        end, [], :ro, %{})
  """
  @spec transaction(store_id(), tx_fun_or_path(), tx_args(), tx_mode(), options()) ::
          tx_result()
  defdelegate transaction(store_id, fun_or_path, args, mode, options), to: :khepri

  @doc """
  Waits until the local member of the default store has applied every write
  acknowledged before the call. Same as `fence/2`.

  ## Example

      :ok = Khepri.fence()
  """
  @spec fence() :: :ok | error()
  defdelegate fence(), to: :khepri

  @doc """
  `fence(store_id)` or `fence(timeout)` (default store; an integer or
  `:infinity`). Same as `fence/2`.

  ## Example

      :ok = Khepri.fence(:my_store)
      :ok = Khepri.fence(5000)
  """
  @spec fence(store_id() | timeout()) :: :ok | error()
  defdelegate fence(store_id_or_timeout), to: :khepri

  @doc """
  Waits until the local member of `store_id` has applied every write
  acknowledged to anyone before the call, and the calling process's own
  earlier async writes.

  Returns `:ok`, `{:error, :timeout}` (no quorum before `timeout`) or
  `{:error, :noproc}`. Queries with `favor: :consistency` do the same before
  reading.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear, %{async: true})
      :ok = Khepri.fence(:my_store, 5000)
      {:ok, :pear} = Khepri.get(:my_store, ~p"/:fruit")
  """
  @spec fence(store_id(), timeout()) :: :ok | error()
  defdelegate fence(store_id, timeout), to: :khepri

  @doc """
  Decodes an async notification of the default store. Same as
  `handle_async_ret/2`.

  ## Example

      receive do
        {:ra_event, _, _} = event -> Khepri.handle_async_ret(event)
      end
  """
  @spec handle_async_ret(ra_event()) :: [{term(), term()}]
  defdelegate handle_async_ret(ra_event), to: :khepri

  @doc """
  Decodes an `{:ra_event, {store_id, node}, event}` message, sent to the
  caller of an async write or transaction that passed a correlation, into a
  list of `{correlation, result}`:

    * a write gives the `Khepri.Adv` result, `{:ok, %{native_path => props}}`
      or `{:error, reason}` (the props are `%{}` when the write was a
      `Khepri` one);
    * a transaction gives the function's return value itself (not wrapped in
      `{:ok, _}`), or `{:error, reason}` for an abort; an exception raised by
      the function is re-raised here;
    * a write the store could not accept gives `{:error, {:not_leader,
      leader_id}}`.

  Callers must receive and decode these messages, which accumulate in their
  mailbox otherwise.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear, %{async: 7})

      receive do
        {:ra_event, _, _} = event ->
          [{7, {:ok, %{[:fruit] => %{}}}}] = Khepri.handle_async_ret(:my_store, event)
      end
  """
  @spec handle_async_ret(store_id(), ra_event()) :: [{term(), term()}]
  defdelegate handle_async_ret(store_id, ra_event), to: :khepri

  # -------------------------------------------------------------------
  # Triggers and projections.
  # -------------------------------------------------------------------

  @typedoc "The id of a trigger; registering an id again replaces its trigger."
  @type trigger_id :: atom()

  @typedoc """
  What a trigger watches: a `Khepri.Evf.tree/2` event filter, or a path
  pattern (all changes, priority 0).
  """
  @type event_filter :: Khepri.Evf.event_filter() | path()

  @typedoc "`:all` or a list of projection names."
  @type projection_names :: :all | [Khepri.Projection.name()]

  @doc """
  Registers a trigger in the default store. Same as `register_trigger/5`.

  ## Example

      :ok = Khepri.register_trigger(:on_user_change, ~p"/:users/*", ~p"/:sprocs/:notify")
  """
  @spec register_trigger(trigger_id(), event_filter(), path()) :: :ok | error()
  defdelegate register_trigger(trigger_id, event_filter, sproc_path), to: :khepri

  @doc """
  `register_trigger(store_id, trigger_id, event_filter, sproc_path)` when
  the second argument is an atom (a trigger id), else
  `register_trigger(trigger_id, event_filter, sproc_path, options)` (default
  store). Same as `register_trigger/5`.

  ## Example

      :ok = Khepri.register_trigger(:my_store, :on_user_change, ~p"/:users/*", ~p"/:sprocs/:notify")
      :ok = Khepri.register_trigger(:on_user_change, ~p"/:users/*", ~p"/:sprocs/:notify", %{})
  """
  @spec register_trigger(store_id(), trigger_id(), event_filter(), path()) :: :ok | error()
  @spec register_trigger(trigger_id(), event_filter(), path(), options()) :: :ok | error()
  defdelegate register_trigger(
                store_id_or_trigger_id,
                trigger_id_or_event_filter,
                event_filter_or_sproc_path,
                sproc_path_or_options
              ),
              to: :khepri

  @doc """
  Registers (or replaces) the trigger `trigger_id` of `store_id`: the stored
  procedure at `sproc_path` runs for each change of a node matching
  `event_filter`.

  The registration is a replicated command. Neither the watched nodes nor
  the stored procedure need to exist yet; a trigger whose `sproc_path` holds
  no stored procedure when it fires is skipped (a warning is logged).

  Events are the creation (auto-created ancestors included), update
  (payload changed) and deletion (every node of a deleted subtree, every
  `:keep_while` cascade) of a node matching the filter's pattern, of a kind
  listed in its `:on_actions` (all three by default). The triggers in effect
  are those registered before the write. The firings of one write run in
  order of priority (greater first), then trigger id, then path.

  The stored procedure runs on the leader's node, outside the store, one
  call at a time, with one argument, the `#khepri_trigger{}` record (see the
  `Khepri.Evf.khepri_trigger/0,1,2` macros):

      {:khepri_trigger, :tree, store_id, trigger_id,
       %{path: native_path, change: :create | :update | :delete}, %{}}

  Each firing is run at least once: a new leader runs again those whose run
  was not acknowledged, so stored procedures must be idempotent. An
  exception raised by the stored procedure is logged, not retried.

  Returns `:ok`, `{:error, :timeout}` or `{:error, :noproc}`. Raises
  `{:khepri_ex, :invalid_trigger_id, _}` for a `trigger_id` that is not an
  atom, `{:khepri_ex, :invalid_event_filter, _}` for bad `:on_actions` or
  `:priority` (`Khepri.Evf.tree/2` refuses them already),
  `possibly_matching_many_nodes_denied` for a `sproc_path` that may match
  several nodes, and `invalid_path` for a malformed pattern or `sproc_path`.

  ## Example

      me = self()

      :ok =
        Khepri.put(:my_store, ~p"/:sprocs/:notify", fn
          {:khepri_trigger, :tree, _store_id, id, %{path: path, change: change}, _} ->
            send(me, {:trigger, id, path, change})
        end)

      filter = Khepri.Evf.tree(~p"/:users/*", %{on_actions: [:delete]})
      :ok = Khepri.register_trigger(:my_store, :on_user_del, filter, ~p"/:sprocs/:notify", %{})

      :ok = Khepri.put(:my_store, ~p"/:users/bob", %{email: "bob@example.com"})
      :ok = Khepri.delete(:my_store, ~p"/:users/bob")

      receive do
        {:trigger, :on_user_del, [:users, "bob"], :delete} -> :ok
      end
  """
  @spec register_trigger(store_id(), trigger_id(), event_filter(), path(), options()) ::
          :ok | error()
  defdelegate register_trigger(store_id, trigger_id, event_filter, sproc_path, options),
    to: :khepri

  @doc """
  Registers a projection in the default store. Same as
  `register_projection/4`.

  ## Example

      :ok = Khepri.register_projection(~p"/:users/*", Khepri.Projection.new(:users, :copy))
  """
  @spec register_projection(path(), Khepri.Projection.projection()) :: :ok | error()
  defdelegate register_projection(pattern, projection), to: :khepri

  @doc """
  `register_projection(store_id, pattern, projection)` or
  `register_projection(pattern, projection, options)` (default store). Same
  as `register_projection/4`.

  ## Example

      projection = Khepri.Projection.new(:users, :copy)
      :ok = Khepri.register_projection(:my_store, ~p"/:users/*", projection)
  """
  @spec register_projection(store_id(), path(), Khepri.Projection.projection()) ::
          :ok | error()
  @spec register_projection(path(), Khepri.Projection.projection(), options()) ::
          :ok | error()
  defdelegate register_projection(
                store_id_or_pattern,
                pattern_or_projection,
                projection_or_options
              ),
              to: :khepri

  @doc """
  Registers `projection` (from `Khepri.Projection.new/3`) for the nodes of
  `store_id` matching `pattern`.

  The registration is a replicated command: on every member, the store
  process creates the projection's ETS table(s) (`named_table`, owned by
  the store process, `:protected` unless the projection says otherwise),
  fills them from the current tree and keeps them in step with each change
  of a matching node:

    * `:copy` - the node's data (a tuple) is inserted on create and update,
      its old data deleted (`:ets.delete_object/2`) on delete;
    * a simple fun `fn path, data -> record end` - its record is inserted on
      create and update and the record of the old data deleted on delete;
      nodes without data are ignored, and an update that changes the
      record's key leaves the old record in place;
    * an extended fun `fn table_or_tables, path, old_props, new_props -> _
      end` - updates the table (or the `%{table => table}` of a projection
      with `:tables`) itself; the props (`%{}` for a missing node) hold
      `:data` or `:sproc`, `:payload_version`, `:child_list_version`,
      `:child_list_length` and `:child_names`.

  Exceptions raised by the fun or ETS are logged and skipped. Once a
  synchronous write returns on a node, the projections on that node reflect
  it (and every earlier write): read them with `:ets.lookup/2`, no wait is
  needed. The tables go with `unregister_projections/3` and, on one node,
  when the store stops there.

  Returns `:ok`, `{:error, {:khepri, :projection_already_exists, %{name:
  name}}}` when a projection of that name is registered already,
  `{:error, :timeout}` or `{:error, :noproc}`. Raises `{:khepri_ex,
  :invalid_projection, _}` when `projection` is not a
  `Khepri.Projection.new/3` result and `invalid_path` for a malformed
  pattern.

  ## Example

      projection = Khepri.Projection.new(:queues, :copy, %{keypos: 2})
      :ok = Khepri.register_projection(:my_store, ~p"/:queues/*", projection, %{})

      :ok = Khepri.put(:my_store, ~p"/:queues/q1", {:amqqueue, "q1", :durable})
      [{:amqqueue, "q1", :durable}] = :ets.lookup(:queues, "q1")
  """
  @spec register_projection(store_id(), path(), Khepri.Projection.projection(), options()) ::
          :ok | error()
  defdelegate register_projection(store_id, pattern, projection, options), to: :khepri

  @doc """
  Drops projections of the default store. Same as
  `unregister_projections/3`.

  ## Example

      :ok = Khepri.unregister_projections([:users])
  """
  @spec unregister_projections(projection_names()) :: :ok | error()
  defdelegate unregister_projections(names), to: :khepri

  @doc """
  `unregister_projections(names, options)` (default store) when the second
  argument is a map, else `unregister_projections(store_id, names)`. Same as
  `unregister_projections/3`.

  ## Example

      :ok = Khepri.unregister_projections(:my_store, :all)
      :ok = Khepri.unregister_projections([:users], %{})
  """
  @spec unregister_projections(store_id(), projection_names()) :: :ok | error()
  @spec unregister_projections(projection_names(), options()) :: :ok | error()
  defdelegate unregister_projections(store_id_or_names, names_or_options), to: :khepri

  @doc """
  Drops the projections of `store_id` named in `names` (every one for
  `:all`) and their ETS tables, on every member; unknown names are ignored.

  Returns `:ok`, `{:error, :timeout}` or `{:error, :noproc}`. Raises
  `{:khepri_ex, :invalid_projection_names, _}` when `names` is neither
  `:all` nor a list of atoms.

  ## Example

      :ok = Khepri.unregister_projections(:my_store, [:queues], %{})
      :undefined = :ets.info(:queues)
  """
  @spec unregister_projections(store_id(), projection_names(), options()) :: :ok | error()
  defdelegate unregister_projections(store_id, names, options), to: :khepri

  @doc """
  Tells if the default store has a projection named `name`. Same as
  `has_projection/3`.

  ## Example

      true = Khepri.has_projection(:users)
  """
  @spec has_projection(Khepri.Projection.name()) :: boolean() | error()
  defdelegate has_projection(name), to: :khepri

  @doc """
  `has_projection(name, options)` (default store) when the second argument
  is a map, else `has_projection(store_id, name)`. Same as
  `has_projection/3`.

  ## Example

      true = Khepri.has_projection(:my_store, :users)
      true = Khepri.has_projection(:users, %{favor: :consistency})
  """
  @spec has_projection(store_id(), Khepri.Projection.name()) :: boolean() | error()
  @spec has_projection(Khepri.Projection.name(), options()) :: boolean() | error()
  defdelegate has_projection(store_id_or_name, name_or_options), to: :khepri

  @doc """
  Tells if a projection named `name` is registered in `store_id`, as the
  local member knows (pass `favor: :consistency` to see every registration
  acknowledged before the call).

  Returns a boolean, `{:error, :noproc}` when the store is not running on
  this node, or `{:error, :timeout}` when `favor: :consistency` cannot reach
  a quorum in time. Raises `{:khepri_ex, :invalid_projection_names, _}` when `name`
  is not an atom.

  ## Example

      :ok = Khepri.register_projection(:my_store, ~p"/:users/*", Khepri.Projection.new(:users, :copy))
      true = Khepri.has_projection(:my_store, :users, %{})
      false = Khepri.has_projection(:my_store, :groups, %{})
  """
  @spec has_projection(store_id(), Khepri.Projection.name(), options()) :: boolean() | error()
  defdelegate has_projection(store_id, name, options), to: :khepri

  # -------------------------------------------------------------------
  # Export and import.
  # -------------------------------------------------------------------

  @doc """
  Exports the whole default store with `module`. Same as `export/4`.

  ## Example

      :ok = Khepri.export(Khepri.ExportErlang, "backup.erl")
  """
  @spec export(module(), term()) :: :ok | {:ok, term()} | error()
  defdelegate export(module, module_priv), to: :khepri

  @doc """
  `export(store_id, module, module_priv)` (the whole store) or
  `export(pattern, module, module_priv)` (default store). Same as
  `export/4`.

  ## Example

      :ok = Khepri.export(:my_store, Khepri.ExportErlang, "backup.erl")
      :ok = Khepri.export(~p"/:stock/**", Khepri.ExportErlang, "stock.erl")
  """
  @spec export(store_id() | path(), module(), term()) :: :ok | {:ok, term()} | error()
  defdelegate export(store_id_or_pattern, module, module_priv), to: :khepri

  @doc """
  Writes the nodes matching `pattern` (every node for `"**"`) with the
  `:khepri_import_export` callback module `module` (such as
  `Khepri.ExportErlang`), starting from its private state `module_priv`.

  One item `{:put, native_path, payload, put_options}` is written per node
  holding a payload or `:keep_while` conditions, parents first; triggers and
  projections are not exported. Returns what the module's `commit_write`
  returns (`:ok` or `{:ok, priv}`), the module's `{:error, reason}`, or
  `{:error, :noproc}`.

  ## Example

      :ok = Khepri.export(:my_store, ~p"/:stock/**", Khepri.ExportErlang, "stock.erl")
  """
  @spec export(store_id(), path(), module(), term()) :: :ok | {:ok, term()} | error()
  defdelegate export(store_id, pattern, module, module_priv), to: :khepri

  @doc """
  Imports into the default store with `module`. Same as `import/3`.

  ## Example

      :ok = Khepri.import(Khepri.ExportErlang, "backup.erl")
  """
  @spec import(module(), term()) :: :ok | {:ok, term()} | error()
  defdelegate import(module, module_priv), to: :khepri

  @doc """
  Reads items with the `:khepri_import_export` callback module `module` from
  its private state `module_priv` and applies them to the store, in order,
  each as its own write (not atomic; the store is not cleared first).

  Returns what the module's `close_read` returns (`:ok` or `{:ok, priv}`),
  or the first error, which stops the import: a write error, the module's
  `{:error, reason}`, or `{:error, :noproc}`.

  ## Example

      :ok = Khepri.import(:other_store, Khepri.ExportErlang, "stock.erl")
      {:ok, 150} = Khepri.get(:other_store, ~p"/:stock/:wood/oak")
  """
  @spec import(store_id(), module(), term()) :: :ok | {:ok, term()} | error()
  defdelegate import(store_id, module, module_priv), to: :khepri

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
