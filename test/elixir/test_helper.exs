ExUnit.start()

defmodule Khepri.TestStore do
  @moduledoc false
  # A store in a fresh temporary data directory, stopped and removed when the
  # test exits.

  import ExUnit.Callbacks, only: [on_exit: 1]

  def start(context \\ %{}) do
    n = System.unique_integer([:positive])
    dir = Path.join(System.tmp_dir!(), "khepri_ex_test_#{n}")
    store = :"khepri_ex_test_#{n}"

    on_exit(fn ->
      :ok = Khepri.stop(store)
      File.rm_rf!(dir)
    end)

    {:ok, ^store} = Khepri.start(dir, store)
    Map.merge(context, %{dir: dir, store: store})
  end

  # Like start/1, and makes the store the default one (`:default_store_id`)
  # until the test exits. Changes the application environment: only for
  # tests that are not async.
  def start_default(context \\ %{}) do
    saved = Application.fetch_env(:khepri, :default_store_id)
    context = start(context)
    Application.put_env(:khepri, :default_store_id, context.store)

    on_exit(fn ->
      case saved do
        {:ok, value} -> Application.put_env(:khepri, :default_store_id, value)
        :error -> Application.delete_env(:khepri, :default_store_id)
      end
    end)

    context
  end

  # Names a fresh store (not started) and a fresh data directory as the
  # defaults (`:default_store_id`, `:default_ra_system`) until the test
  # exits; the store is then stopped and the directory removed. Changes the
  # application environment: only for tests that are not async.
  def default_env(prefix) do
    n = System.unique_integer([:positive])
    dir = Path.join(System.tmp_dir!(), "#{prefix}_#{n}")
    store = :"#{prefix}_#{n}"
    saved = Application.get_all_env(:khepri)

    Application.put_env(:khepri, :default_store_id, store)
    Application.put_env(:khepri, :default_ra_system, dir)

    on_exit(fn ->
      :ok = Khepri.stop(store)

      for key <- [:default_store_id, :default_ra_system] do
        case Keyword.fetch(saved, key) do
          {:ok, value} -> Application.put_env(:khepri, key, value)
          :error -> Application.delete_env(:khepri, key)
        end
      end

      File.rm_rf!(dir)
    end)

    %{dir: dir, store: store}
  end
end
