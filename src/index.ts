import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { MenuSvg } from '@jupyterlab/ui-components';

import { trackBadges } from './components/badges';
import { PromotePanel } from './components/PromotePanel';
import { errorMessage, PromoteClient } from './handler';
import { promoteIcon } from './icons';
import { isRole, roleFromTags } from './model';
import { cellTags, setCellRole } from './notebook';
import {
  CommandIDs,
  DEFAULT_SETTINGS,
  ISettings,
  PLUGIN_ID,
  ROLES
} from './tokens';
import { FRONTEND_VERSION } from './version';

/** Compare the server part's version with ours and raise the banner if needed. */
async function checkServer(
  client: PromoteClient,
  panel: PromotePanel
): Promise<void> {
  const prefix = 'Server extension missing or different version';
  try {
    const server = await client.version();
    panel.setServerProblem(
      server === FRONTEND_VERSION
        ? null
        : `${prefix}: the panel is ${FRONTEND_VERSION}, the server part is ${server}. ` +
            'Reinstall jupyterlab_promote and restart JupyterLab.'
    );
  } catch (error) {
    panel.setServerProblem(
      `${prefix}: the server part did not answer (${errorMessage(error)}). ` +
        'Run `jupyter server extension enable jupyterlab_promote` and restart JupyterLab.'
    );
  }
}

function addSetRoleCommand(
  app: JupyterFrontEnd,
  tracker: INotebookTracker
): void {
  const roleArg = (args: { role?: unknown }): string =>
    String(args.role ?? 'none');
  app.commands.addCommand(CommandIDs.setRole, {
    label: args => roleArg(args),
    caption: 'Set the promote role of the selected cells',
    describedBy: {
      args: {
        type: 'object',
        properties: { role: { type: 'string', enum: [...ROLES, 'none'] } }
      }
    },
    isEnabled: () => tracker.activeCell !== null,
    isToggled: args => {
      const cell = tracker.activeCell;
      const role = cell ? roleFromTags(cellTags(cell.model)) : null;
      return (role ?? 'none') === roleArg(args);
    },
    execute: args => {
      const notebook = tracker.currentWidget?.content;
      const role = roleArg(args);
      if (!notebook || (role !== 'none' && !isRole(role))) {
        return;
      }
      for (const cell of notebook.widgets) {
        if (notebook.isSelectedOrActive(cell)) {
          setCellRole(cell.model, role === 'none' ? null : role);
        }
      }
    }
  });

  const submenu = new MenuSvg({ commands: app.commands });
  submenu.id = 'jp-promote-role-menu';
  submenu.title.label = 'Promote role';
  submenu.title.icon = promoteIcon;
  for (const role of [...ROLES, 'none']) {
    submenu.addItem({ command: CommandIDs.setRole, args: { role } });
  }
  app.contextMenu.addItem({
    type: 'submenu',
    submenu,
    selector: '.jp-Notebook .jp-Cell',
    rank: 30
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Promote a tagged notebook to a tested, git-committed Lightning package.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    let settings: ISettings = { ...DEFAULT_SETTINGS };
    const client = new PromoteClient(app.serviceManager.serverSettings);
    const panel = new PromotePanel({
      client,
      tracker,
      settings: () => settings
    });
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, panel.id);
    void checkServer(client, panel);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(
        loaded => {
          const read = () => {
            settings = {
              ...DEFAULT_SETTINGS,
              ...(loaded.composite as Partial<ISettings>)
            };
          };
          read();
          loaded.changed.connect(read);
        },
        error =>
          console.error('jupyterlab-promote: cannot load settings', error)
      );
    }

    tracker.widgetAdded.connect((_, notebookPanel) =>
      trackBadges(notebookPanel)
    );
    tracker.forEach(trackBadges);

    const hasNotebook = () => tracker.currentWidget !== null;
    const open = () => app.shell.activateById(panel.id);
    app.commands.addCommand(CommandIDs.open, {
      label: args => (args.toolbar ? 'Promote' : 'Promote: open panel'),
      caption: 'Open the Promote panel',
      icon: args => (args.toolbar ? promoteIcon : undefined),
      execute: open
    });
    app.commands.addCommand(CommandIDs.preview, {
      label: 'Promote: preview',
      isEnabled: hasNotebook,
      execute: () => {
        open();
        return panel.preview();
      }
    });
    app.commands.addCommand(CommandIDs.promote, {
      label: 'Promote: promote and commit',
      isEnabled: hasNotebook,
      execute: () => {
        open();
        return panel.promote();
      }
    });
    addSetRoleCommand(app, tracker);

    for (const command of [
      CommandIDs.open,
      CommandIDs.preview,
      CommandIDs.promote
    ]) {
      palette?.addItem({ command, category: 'Promote' });
    }
  }
};

export default plugin;
